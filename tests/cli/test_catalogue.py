"""`tandem functions|capabilities|people|governance ...`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Tandem


def test_functions_add_rename_remove(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("functions", "add", "Data Office", "--kind", "other", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "added function data-office" in run.stdout
    keys = [f["key"] for f in tandem("functions", "list", "-w", ws_path, "--json").json()]
    assert keys[-1] == "data-office"
    assert len(keys) == 10

    tandem("ownership", "assign", "crm", "data-office", "RC", "-w", ws_path)
    run = tandem(
        "functions",
        "rename",
        "data-office",
        "--name",
        "Data & AI",
        "--new-key",
        "data",
        "-w",
        ws_path,
    )
    assert run.exit_code == 0, run.stderr
    funcs = {f["key"]: f for f in tandem("functions", "list", "-w", ws_path, "--json").json()}
    assert funcs["data"]["name"] == "Data & AI"
    assert funcs["data"]["responsibilities"] == 2  # responsibilities followed the rename

    run = tandem("functions", "remove", "data", "-w", ws_path)
    assert "removed function data and 2 responsibilities" in run.stdout
    matrix = tandem("ownership", "show", "-w", ws_path, "--json").json()
    crm = next(r for r in matrix["capabilities"] if r["key"] == "crm")
    assert crm["roles"] == {}


def test_functions_refuse_bad_input(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("functions", "add", "Marketing", "-w", ws_path)
    assert run.exit_code == 1
    assert "a function with key `marketing` already exists" in run.stderr
    run = tandem("functions", "add", "Legal", "--kind", "lawyers", "-w", ws_path)
    assert run.exit_code == 1
    assert "unknown function kind `lawyers`" in run.stderr
    run = tandem("functions", "add", "Legal", "--key", "Legal Team", "-w", ws_path)
    assert run.exit_code == 1
    assert "not a valid key" in run.stderr
    run = tandem("functions", "rename", "ghosts", "--name", "x", "-w", ws_path)
    assert run.exit_code == 1
    assert "no function `ghosts`" in run.stderr
    run = tandem("functions", "rename", "it", "--new-key", "marketing", "-w", ws_path)
    assert run.exit_code == 1
    assert "already exists" in run.stderr


def test_capabilities(tandem: Tandem, ws_path: Path) -> None:
    run = tandem("capabilities", "add", "Click & collect", "--customer-facing", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "added capability click-and-collect" in run.stdout
    tandem("ownership", "assign", "click-and-collect", "business-units", "A", "-w", ws_path)
    caps = {c["key"]: c for c in tandem("capabilities", "list", "-w", ws_path, "--json").json()}
    assert caps["click-and-collect"]["customer_facing"] is True
    assert caps["click-and-collect"]["accountable"] == ["business-units"]
    assert len(caps) == 18
    assert tandem("capabilities", "remove", "click-and-collect", "-w", ws_path).exit_code == 0
    run = tandem("capabilities", "remove", "click-and-collect", "-w", ws_path)
    assert run.exit_code == 1
    assert "no capability `click-and-collect`" in run.stderr


def test_people_and_heads(tandem: Tandem, ws_path: Path) -> None:
    assert (
        tandem(
            "people", "add", "marketing", "Ana Ruiz", "--title", "CMO", "--head", "-w", ws_path
        ).exit_code
        == 0
    )
    assert (
        tandem(
            "people", "add", "marketing", "Ben Okafor", "--email", "ben@example.com", "-w", ws_path
        ).exit_code
        == 0
    )
    # a new head replaces the old one
    assert tandem("people", "add", "marketing", "Cleo Park", "--head", "-w", ws_path).exit_code == 0
    people = tandem("people", "list", "--function", "marketing", "-w", ws_path, "--json").json()
    assert [p["name"] for p in people] == ["Cleo Park", "Ana Ruiz", "Ben Okafor"]
    assert [p["head"] for p in people] == [True, False, False]
    funcs = {f["key"]: f for f in tandem("functions", "list", "-w", ws_path, "--json").json()}
    assert funcs["marketing"]["head"] == "Cleo Park"
    assert funcs["marketing"]["people"] == 3

    run = tandem("people", "add", "marketing", "Ana Ruiz", "-w", ws_path)
    assert run.exit_code == 1
    assert "already in Marketing" in run.stderr
    run = tandem("people", "add", "marketing", "Dee", "--email", "not-an-email", "-w", ws_path)
    assert run.exit_code == 1
    assert "is not an email address" in run.stderr
    assert tandem("people", "remove", "marketing", "Ana Ruiz", "-w", ws_path).exit_code == 0
    run = tandem("people", "remove", "marketing", "Ana Ruiz", "-w", ws_path)
    assert run.exit_code == 1
    assert "Ana Ruiz is not in Marketing" in run.stderr


def test_governance(tandem: Tandem, ws_path: Path) -> None:
    run = tandem(
        "governance",
        "add",
        "Digital team",
        "--kind",
        "digital_team",
        "--reports-to",
        "marketing",
        "-w",
        ws_path,
    )
    assert run.exit_code == 0, run.stderr
    findings = tandem("ownership", "findings", "-w", ws_path, "--json").json()
    single = [f for f in findings if f["rule"] == "digital-team-single-line"]
    assert len(single) == 1
    assert single[0]["functions"] == ["marketing"]
    assert "no-digital-hub" not in {f["rule"] for f in findings}

    tandem("governance", "remove", "digital-team", "-w", ws_path)
    tandem(
        "governance",
        "add",
        "Digital team",
        "--kind",
        "digital_team",
        "--reports-to",
        "marketing",
        "--reports-to",
        "it",
        "-w",
        ws_path,
    )
    bodies = tandem("governance", "list", "-w", ws_path, "--json").json()
    assert bodies[0]["reports_to"] == ["marketing", "it"]
    findings = tandem("ownership", "findings", "-w", ws_path, "--json").json()
    assert "digital-team-single-line" not in {f["rule"] for f in findings}

    run = tandem("governance", "add", "Board", "--kind", "board", "-w", ws_path)
    assert run.exit_code == 1
    assert "unknown governance body kind `board`" in run.stderr
    run = tandem(
        "governance", "add", "Board", "--kind", "other", "--member", "legal", "-w", ws_path
    )
    assert run.exit_code == 1
    assert "no function `legal`" in run.stderr
    assert len(tandem("governance", "list", "-w", ws_path, "--json").json()) == 1
