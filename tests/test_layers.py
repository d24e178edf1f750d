"""Dependencies point one way (DESIGN.md): a domain package never imports the server or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tandem
import tandem.accounts.policy
import tandem.server.policy

SRC = Path(tandem.__file__).parent
DOMAIN = ("accounts", "ownership", "collaboration", "customers", "campaigns", "db", "lake")
OUTER = ("tandem.server", "tandem.cli", "tandem.reporting")


def imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, at the top or inside a function (absolute imports)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_never_imports_server_or_cli(package: str) -> None:
    offending = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in sorted((SRC / package).rglob("*.py"))
        for module in imported_modules(path)
        if module.startswith(OUTER)
    ]
    assert offending == []


def test_server_policy_is_the_domain_policy() -> None:
    """The routers' `tandem.server.policy` and the domain's `tandem.accounts.policy` are one
    policy: the same table and the same checks, not a copy that could drift."""
    for name in tandem.server.policy.__all__:
        assert getattr(tandem.server.policy, name) is getattr(tandem.accounts.policy, name), name
    assert set(tandem.server.policy.__all__) == set(tandem.accounts.policy.__all__)
