"""`tandem sources add|list|show|rotate-key|remove`."""

from __future__ import annotations

from pathlib import Path

from tandem import Workspace
from tests.conftest import Tandem


def test_add_prints_the_key_once_and_list_shows_only_a_hint(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "sources", "add", "web-shop", "--kind", "web", "--owner", "marketing", "--owner", "it",
        "-w", ws_path,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "added source web-shop (web, owned by marketing, it)" in run.stdout
    key = run.stdout.split("write key: ")[1].split()[0]
    assert key.startswith("twk_")
    assert "shown only once" in run.stderr

    listed = tandem("sources", "list", "-w", ws_path, "--json").json()
    assert listed == [
        {
            "name": "web-shop",
            "kind": "web",
            "owners": ["marketing", "it"],
            "created_at": listed[0]["created_at"],
            "rotated_at": None,
            "key_hint": key[:8] + "...",
        }
    ]
    table = tandem("sources", "list", "-w", ws_path).stdout
    assert "web-shop" in table and key[:8] in table and key not in table
    shown = tandem("sources", "show", "web-shop", "-w", ws_path)
    assert "owners:      marketing, it" in shown.stdout
    assert key not in shown.stdout
    assert tandem("sources", "show", "web-shop", "-w", ws_path, "--json").json() == listed[0]
    with Workspace.open(ws_path) as ws:
        info = ws.sources.authenticate(key)
        assert info is not None and info.name == "web-shop"


def test_add_json_gives_the_key(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "sources", "add", "app", "--kind", "app", "--owner", "digital", "-w", ws_path, "--json"
    )
    data = run.json()
    assert data["name"] == "app"
    assert data["owners"] == ["digital"]
    assert data["write_key"].startswith("twk_")


def test_rotate_key(tandem: Tandem, ws_path: Path) -> None:
    old = tandem(
        "sources", "add", "crm", "--kind", "crm", "--owner", "it", "-w", ws_path, "--json"
    ).json()["write_key"]
    run = tandem("sources", "rotate-key", "crm", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "rotated the key of source crm" in run.stdout
    new = run.stdout.split("write key: ")[1].split()[0]
    assert new != old
    with Workspace.open(ws_path) as ws:
        assert ws.sources.authenticate(old) is None
        assert ws.sources.authenticate(new) is not None
    assert tandem("sources", "show", "crm", "-w", ws_path, "--json").json()["rotated_at"]


def test_remove(tandem: Tandem, ws_path: Path) -> None:
    tandem("sources", "add", "chat", "--kind", "chat", "--owner", "customer-service", "-w", ws_path)
    run = tandem("sources", "remove", "chat", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "removed source chat" in run.stdout
    assert "rows stay" not in run.stdout
    assert tandem("sources", "list", "-w", ws_path, "--json").json() == []
    assert "no sources yet" in tandem("sources", "list", "-w", ws_path).stdout


def test_errors_are_clear(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("sources", "add", "web", "--kind", "web", "--owner", "wizards", "-w", ws_path)
    assert run.exit_code == 1
    assert "no function `wizards` (known: executive, marketing, it" in run.stderr
    run = tandem("sources", "add", "web", "--kind", "fax", "--owner", "it", "-w", ws_path)
    assert run.exit_code == 1
    assert "unknown source kind `fax`" in run.stderr
    assert "web, app, email, social, chat, service, crm, pos, ideas, hr, other" in run.stderr
    run = tandem("sources", "show", "nope", "-w", ws_path, "--json")
    assert run.exit_code == 1
    assert run.json()["error"] == "not_found"
    assert run.json()["detail"] == "no source `nope` (known: none)"
    run = tandem("sources", "add", "web", "--kind", "web", "-w", ws_path)
    assert run.exit_code == 2  # --owner is required
    assert "--owner" in run.stderr
