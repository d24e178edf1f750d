"""`tandem ingest`, `tandem events count`, `tandem quarantine show`, `tandem lake compact`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Tandem


@pytest.fixture
def ws(ws_path: Path, tandem: Tandem) -> Path:
    for name, kind in (("web", "web"), ("crm", "crm")):
        run = tandem("sources", "add", name, "--kind", kind, "--owner", "marketing", "-w", ws_path)
        assert run.exit_code == 0, run.stdout + run.stderr
    return ws_path


def write_events(path: Path) -> Path:
    rows = [
        {"type": "track", "userId": "u1", "event": "Viewed", "messageId": "m1"},
        {"type": "page", "userId": "u1", "name": "Home", "messageId": "m2"},
        {"type": "track", "userId": "u2", "messageId": "m3"},
        {"type": "identify", "userId": "u2", "traits": {"email": "b@x.io"}, "messageId": "m4"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    return path


def test_ingest_prints_a_summary_and_json(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    file = write_events(tmp_path / "web.ndjson")
    run = tandem("ingest", file, "--source", "web", "-w", ws)
    assert run.exit_code == 0, run.stderr
    assert "imported web.ndjson into source web" in run.stdout
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in run.stdout.splitlines()[1:5]}
    assert lines == {
        "rows read": "5",
        "accepted": "3",
        "rejected (quarantined)": "2",
        "duplicates (already stored)": "0",
    }
    assert "tandem quarantine show --source web" in run.stdout
    again = tandem("ingest", file, "--source", "web", "-w", ws, "--json").json()
    assert {k: again[k] for k in ("rows", "accepted", "rejected", "duplicates")} == {
        "rows": 5,
        "accepted": 0,
        "rejected": 2,
        "duplicates": 3,
    }
    assert again["format"] == "ndjson" and again["source"] == "web"


def test_ingest_with_a_mapping(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text("id,name,mail\n1,Ann,a@x.io\n2,Bob,\n")
    (tmp_path / "map.yaml").write_text(
        "record_id: id\ntraits: {name: name}\nidentifiers:\n  - {column: mail, type: email}\n"
    )
    run = tandem(
        "ingest",
        tmp_path / "crm.csv",
        "--source",
        "crm",
        "--mapping",
        tmp_path / "map.yaml",
        "-w",
        ws,
        "--json",
    )
    assert run.exit_code == 0, run.stdout
    assert run.json()["accepted"] == 2
    counts = tandem("events", "count", "--source", "crm", "-w", ws, "--json").json()
    assert counts == {"total": 2, "counts": [{"source": "crm", "type": "identify", "events": 2}]}


def test_errors_are_clear(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    file = write_events(tmp_path / "web.ndjson")
    unknown = tandem("ingest", file, "--source", "nope", "-w", ws)
    assert unknown.exit_code == 1
    assert "no source `nope`" in unknown.stderr
    (tmp_path / "map.yaml").write_text("record_id: id\ncolour: red\n")
    bad_map = tandem(
        "ingest", file, "--source", "web", "--mapping", tmp_path / "map.yaml", "-w", ws, "--json"
    )
    assert bad_map.exit_code == 1
    body = bad_map.json()
    assert body["error"] == "invalid_input"
    assert body["problems"][0]["line"] == 2
    data = tmp_path / "data.txt"
    data.write_text("x")
    guess = tandem("ingest", data, "--source", "web", "-w", ws)
    assert guess.exit_code == 1 and "pass --format" in guess.stderr


def test_events_count_and_quarantine_show(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    empty = tandem("events", "count", "-w", ws)
    assert "No events yet" in empty.stdout
    tandem("ingest", write_events(tmp_path / "web.ndjson"), "--source", "web", "-w", ws)
    counts = tandem("events", "count", "-w", ws, "--json").json()
    assert counts == {
        "total": 3,
        "counts": [
            {"source": "web", "type": "identify", "events": 1},
            {"source": "web", "type": "page", "events": 1},
            {"source": "web", "type": "track", "events": 1},
        ],
    }
    table = tandem("events", "count", "-w", ws).stdout
    assert "identify" in table and "total" in table
    shown = tandem("quarantine", "show", "--source", "web", "--limit", "1", "-w", ws, "--json")
    body = shown.json()
    assert (body["total"], body["shown"]) == (2, 1)
    assert body["rejected"][0]["origin"] == "file:web.ndjson"
    full = tandem("quarantine", "show", "-w", ws).stdout
    assert "event is required for a track call" in full
    assert "the row is not valid JSON" in full
    assert "2 of 2 shown" in full
    assert (
        "Nothing in quarantine for source crm"
        in tandem("quarantine", "show", "--source", "crm", "-w", ws).stdout
    )


def test_lake_compact(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    for n in range(3):
        file = tmp_path / f"e{n}.ndjson"
        file.write_text(json.dumps({"type": "page", "userId": f"u{n}"}) + "\n")
        tandem("ingest", file, "--source", "web", "-w", ws)
    body = tandem("lake", "compact", "-w", ws, "--json").json()
    events = next(t for t in body["tables"] if t["table"] == "events")
    assert (events["files_before"], events["files_after"], events["rows"]) == (3, 1, 3)
    assert events["duplicates_removed"] == 0 and events["files_vacuumed"] == 0
    assert "quarantine" in tandem("lake", "compact", "-w", ws).stdout


def test_lake_compact_refuses_a_vacuum_retention_under_an_hour_unless_forced(
    ws: Path, tandem: Tandem, tmp_path: Path
) -> None:
    for n in range(3):
        file = tmp_path / f"e{n}.ndjson"
        file.write_text(json.dumps({"type": "page", "userId": f"u{n}"}) + "\n")
        tandem("ingest", file, "--source", "web", "-w", ws)
    run = tandem("lake", "compact", "--vacuum", "--retention-hours", "0", "-w", ws)
    assert run.exit_code == 1
    assert "below the minimum of 1 hour" in run.stderr
    assert "running server or import may still be reading or writing" in run.stderr
    assert "--force" in run.stderr and "Traceback" not in run.stderr
    # nothing was done: the three files are still there to compact
    body = tandem("lake", "compact", "--vacuum", "--retention-hours", "1", "-w", ws, "--json")
    events = next(t for t in body.json()["tables"] if t["table"] == "events")
    assert (events["files_before"], events["files_after"]) == (3, 1)
    assert events["files_vacuumed"] == 0  # the replaced files are younger than an hour
    # forced: the replaced files go at once
    body = tandem(
        "lake", "compact", "--vacuum", "--retention-hours", "0", "--force", "-w", ws, "--json"
    )
    events = next(t for t in body.json()["tables"] if t["table"] == "events")
    assert (events["files_vacuumed"], events["rows"]) == (3, 3)
    # the retention matters only for a vacuum
    assert tandem("lake", "compact", "--retention-hours", "0", "-w", ws).exit_code == 0


def test_an_unreadable_file_is_named_once(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_text("not parquet")
    run = tandem("ingest", tmp_path / "fake.parquet", "--source", "web", "-w", ws)
    assert run.exit_code == 1
    assert "fake.parquet: not a readable Parquet file" in run.stderr
    assert run.stderr.count("not a readable Parquet file") == 1
