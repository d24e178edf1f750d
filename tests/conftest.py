"""Shared fixtures: small real workspaces, on SQLite or (with TANDEM_TEST_DATABASE_URL) PostgreSQL.

With TANDEM_TEST_DATABASE_URL set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), every
workspace a test creates gets a schema of its own on that server, dropped afterwards. A server that
cannot be reached fails the run; it never skips.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tandem import Workspace
from tandem.cli.main import app
from tandem.ownership.model import OwnershipModel
from tandem.ownership.modelfile import model_from_document
from tandem.yamlfile import YamlDocument

TEST_DATABASE_ENV = "TANDEM_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TANDEM_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TANDEM_") and name != TEST_DATABASE_ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def fresh_database_url() -> Iterator[Callable[[], str | None]]:
    """Factory: None (the workspace's own SQLite file) or a URL to a fresh PostgreSQL schema."""
    base = os.environ.get(TEST_DATABASE_ENV)
    schemas: list[str] = []
    admin = create_engine(base) if base else None

    def fresh() -> str | None:
        if admin is None or base is None:
            return None
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield fresh
    if admin is not None:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def make_workspace(
    tmp_path: Path, fresh_database_url: Callable[[], str | None]
) -> Iterator[Callable[..., Workspace]]:
    """Factory: a fresh workspace (default catalogue) per call, closed after the test."""
    opened: list[Workspace] = []

    def make(name: str = "ws", company: str = "Test Retail") -> Workspace:
        ws = Workspace.init(tmp_path / name, company=company, database_url=fresh_database_url())
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture
def workspace(make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace()


def model_from_yaml(text: str) -> OwnershipModel:
    """An ownership model straight from YAML text (no database), for rule tests."""
    return model_from_document(YamlDocument.parse(text, source="test.yaml"))


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Tandem = Callable[..., Run]


@pytest.fixture
def tandem() -> Tandem:
    runner = CliRunner()

    def run(*args: str | Path, input: str | None = None) -> Run:
        result = runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def ws_path(make_workspace: Callable[..., Workspace]) -> Path:
    """A fresh workspace's folder (default catalogue), for commands' --workspace."""
    return make_workspace().root
