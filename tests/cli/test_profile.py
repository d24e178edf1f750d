"""tandem profile show and tandem forget, through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tandem.customers.profiles import build_profiles
from tandem.workspace import Workspace
from tests.conftest import Tandem
from tests.customers.profile_data import NOW, build_lake


@pytest.fixture
def ws_built(workspace: Workspace, tmp_path: Path) -> Path:
    build_lake(workspace, tmp_path)
    build_profiles(workspace, now=NOW, run=1)
    return workspace.root


def test_show_json(tandem: Tandem, ws_built: Path) -> None:
    run = tandem("profile", "show", "ann@x.example", "-w", ws_built, "--json")
    assert run.exit_code == 0, run.stderr
    view = run.json()
    assert view["customer_id"] == "cus_a"
    assert view["profile"]["traits"]["firstName"] == "Ann"
    assert view["profile"]["rfm"] == "533"
    assert view["explanation"]["merged_ids"] == ["cus_old"]
    whys = [link["why"] for link in view["explanation"]["links"]]
    # the wording is identity resolution's Link.describe(); the facts must be in it
    assert any("email ann@x.example" in why and "2 records" in why for why in whys)


def test_show_table(tandem: Tandem, ws_built: Path) -> None:
    run = tandem("profile", "show", "cus_d", "-w", ws_built)
    assert run.exit_code == 0, run.stderr
    out = run.stdout
    assert "cus_d" in out and "Dee" in out
    assert "probabilistic match crm:c4 ~ web:w9" in out and "weight 12.50" in out
    assert "335" in out and "opted in" in out
    merged = tandem("profile", "show", "cus_old", "-w", ws_built)
    assert "cus_old was merged into cus_a" in merged.stdout


def test_show_errors(tandem: Tandem, ws_built: Path, make_workspace: Any) -> None:
    unknown = tandem("profile", "show", "zed@x.example", "-w", ws_built)
    assert unknown.exit_code == 1 and "no customer has that email" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    as_json = tandem("profile", "show", "zed@x.example", "-w", ws_built, "--json")
    assert as_json.exit_code == 1 and as_json.json()["error"] == "not_found"
    empty = tandem("profile", "show", "cus_a", "-w", make_workspace("empty").root)
    assert empty.exit_code == 1 and "run `tandem resolve`" in empty.stderr


def test_forget_asks_then_erases(tandem: Tandem, ws_built: Path) -> None:
    declined = tandem("forget", "hv-2", "-w", ws_built, input="n\n")
    assert declined.exit_code == 1 and "Erase 1 customer(s), 2 event(s)" in declined.stderr
    assert "nothing erased" in declined.stderr
    run = tandem("forget", "hv-2", "-w", ws_built, "--yes", "--json")
    assert run.exit_code == 0, run.stdout
    result = run.json()
    assert result["customers"] == 1 and result["identifier_type"] == "user_id"
    assert result["rows"]["events"] == 2 and result["rows"]["profiles"] == 1
    again = tandem("forget", "hv-2", "-w", ws_built, "--yes")
    assert again.exit_code == 1 and "no customer, event or quarantined row" in again.stderr
    shown = tandem("profile", "show", "hv-2", "-w", ws_built)
    assert shown.exit_code == 1


def test_forget_text_output_mentions_vacuum(tandem: Tandem, ws_built: Path) -> None:
    run = tandem("forget", "cus_b", "-w", ws_built, "--yes")
    assert run.exit_code == 0, run.stderr
    assert "erased 1 customer(s)" in run.stdout and "--vacuum" in run.stdout
    vacuumed = tandem("forget", "hv-4", "-w", ws_built, "--yes", "--vacuum")
    assert vacuumed.exit_code == 0 and "old data files removed:" in vacuumed.stdout
    assert tandem("forget", "hv-1", "-w", ws_built, "--json").exit_code == 1  # needs --yes
