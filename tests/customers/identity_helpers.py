"""Helpers shared by the identity tests: workspaces with [identity] settings, messages in."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

from tandem.customers.ingest import ingest_file
from tandem.workspace import Workspace

_files = count()


def configured(make_workspace: Callable[..., Workspace], toml: str, name: str = "ws") -> Workspace:
    """A fresh workspace whose tandem.toml ends with `toml` (matching off unless it says)."""
    ws = make_workspace(name)
    text = toml
    if "[identity.matching]" not in text:
        text += "\n[identity.matching]\nenabled = false\n"
    path = ws.root / "tandem.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    root = ws.root
    ws.close()
    return reopen(root)


OPENED: list[Workspace] = []
"""Workspaces opened by `reopen`; tests/customers/conftest.py closes them after each test (on
PostgreSQL an unclosed workspace leaks its connection)."""


def reopen(root: Path) -> Workspace:
    """Open the workspace at `root` again (after its tandem.toml changed), closed after the test."""
    ws = Workspace.open(root)
    OPENED.append(ws)
    return ws


def send(ws: Workspace, source: str, messages: list[dict[str, Any]]) -> None:
    """Import `messages` (Segment JSON, messageId added when missing) into `source`."""
    lines = []
    for m in messages:
        m = dict(m)
        m.setdefault("messageId", f"{source}-{next(_files)}")
        m.setdefault("timestamp", "2026-05-01T10:00:00Z")
        lines.append(json.dumps(m))
    path = Path(ws.root) / f"in-{next(_files)}.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest_file(ws.lake, path, source=source)
    assert result.rejected == 0, result
    path.unlink()


def customers_of(ws: Workspace) -> dict[str, str]:
    """message_id -> customer_id from the `identities` table."""
    table = ws.lake.raw("identities").to_pyarrow()
    return dict(zip(table["message_id"].to_pylist(), table["customer_id"].to_pylist(), strict=True))


def track(user: str | None = None, anon: str | None = None, **extra: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "track", "event": "Product Viewed"}
    if user:
        m["userId"] = user
    if anon:
        m["anonymousId"] = anon
    m.update(extra)
    return m


def identify(user: str | None = None, anon: str | None = None, **traits: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "identify", "traits": traits}
    if user:
        m["userId"] = user
    if anon:
        m["anonymousId"] = anon
    return m
