"""tandem segment ..., through the real CLI on the segment tests' known lake."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tandem.workspace import Workspace
from tests.conftest import Tandem
from tests.customers.test_segments import build_segment_lake

LAPSED = """\
name: lapsed
description: Bought before, no email opened this year
owners: [marketing]
where:
  all:
    - {trait: orders, op: ">=", value: 1}
    - not: {event: Email Opened, in_last_days: 365}
"""


@pytest.fixture
def ws_built(workspace: Workspace, tmp_path: Path) -> Path:
    build_segment_lake(workspace, tmp_path)
    return workspace.root


def test_create_show_evaluate_export_delete(tandem: Tandem, ws_built: Path, tmp_path: Path) -> None:
    path = tmp_path / "lapsed.yaml"
    path.write_text(LAPSED)
    preview = tandem("segment", "preview", path, "--as-of", "2026-07-01", "-w", ws_built, "--json")
    assert preview.exit_code == 0, preview.stderr
    assert preview.json() == {"name": "lapsed", "size": 2}  # cus_a, cus_d
    created = tandem("segment", "create", path, "--as-of", "2026-07-01", "-w", ws_built)
    assert created.exit_code == 0, created.stderr
    assert "created segment lapsed: 2 customers" in created.stdout
    again = tandem("segment", "evaluate", "lapsed", "--as-of", "2026-07-10", "-w", ws_built)
    assert again.exit_code == 0, again.stderr
    # by 07-10 cus_d has opened an email (07-05)
    assert "segment lapsed, evaluation 2: 1 customer" in again.stdout
    shown = tandem("segment", "show", "lapsed", "-w", ws_built, "--json").json()
    assert [(e["evaluation"], e["size"]) for e in shown["history"]] == [(1, 2), (2, 1)]
    assert shown["definition"]["where"]["all"][1] == {
        "not": {"event": "Email Opened", "at_least": 1, "in_last_days": 365, "where": []}
    }
    table = tandem("segment", "show", "lapsed", "-w", ws_built)
    assert "Email Opened" in table.stdout and "evaluation" in table.stdout
    listed = tandem("segment", "list", "-w", ws_built, "--json").json()
    assert [(s["name"], s["size"], s["owners"]) for s in listed] == [("lapsed", 1, ["marketing"])]
    out = tmp_path / "lapsed.csv"
    exported = tandem(
        "segment", "export", "lapsed", "--out", out, "-t", "email", "-t", "revenue", "-w", ws_built
    )
    assert exported.exit_code == 0, exported.stderr
    with out.open(newline="") as f:
        assert list(csv.DictReader(f)) == [
            {"customer_id": "cus_a", "email": "ann@x.example", "revenue": "150.5"}
        ]
    deleted = tandem("segment", "delete", "lapsed", "-w", ws_built, "--json")
    assert deleted.json() == {"deleted": "lapsed", "membership_rows": 3}
    assert tandem("segment", "list", "-w", ws_built, "--json").json() == []


def test_errors_exit_1_with_the_place(tandem: Tandem, ws_built: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(LAPSED.replace("Email Opened", "Email Openned"))
    run = tandem("segment", "create", path, "-w", ws_built)
    assert run.exit_code == 1
    assert "line 7" in run.stderr and "where.all[1].not.event" in run.stderr
    assert "did you mean `Email Opened`?" in run.stderr and "Traceback" not in run.stderr
    as_json = tandem("segment", "preview", path, "-w", ws_built, "--json")
    assert as_json.exit_code == 1
    assert as_json.json()["problems"][0]["field"] == "where.all[1].not.event"
    missing = tandem("segment", "show", "nope", "-w", ws_built)
    assert missing.exit_code == 1 and "no segment `nope`" in missing.stderr
    bad_time = tandem(
        "segment", "preview", tmp_path / "bad.yaml", "--as-of", "soon", "-w", ws_built
    )
    assert bad_time.exit_code == 1
    no_file = tandem("segment", "create", tmp_path / "none.yaml", "-w", ws_built)
    assert no_file.exit_code == 1 and "not found" in no_file.stderr
    path.write_text(
        json.dumps({"name": "x", "owners": ["marketing"], "where": {"trait": "orders"}})
    )
    json_file = tandem("segment", "create", path, "-w", ws_built)
    assert json_file.exit_code == 1 and "missing required field `op`" in json_file.stderr
