"""`tandem resolve` and `tandem identities export`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from tests.conftest import Tandem


@pytest.fixture
def ws(ws_path: Path, tandem: Tandem, tmp_path: Path) -> Path:
    toml = ws_path / "tandem.toml"
    toml.write_text(toml.read_text() + "\n[identity.matching]\nenabled = false\n")
    run = tandem("sources", "add", "web", "--kind", "web", "--owner", "marketing", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    rows = [
        {"type": "track", "anonymousId": "a1", "event": "Viewed", "messageId": "m1"},
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m2",
         "traits": {"email": "Ann@Example.com"}},
        {"type": "identify", "userId": "sub_1", "messageId": "m3",
         "traits": {"email": "ann@example.com", "phone": "12"}},
        {"type": "track", "userId": "u2", "event": "Viewed", "messageId": "m4"},
    ]  # fmt: skip
    file = tmp_path / "web.ndjson"
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = tandem("ingest", file, "--source", "web", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    return ws_path


def test_resolve_prints_counts_and_json(ws: Path, tandem: Tandem) -> None:
    run = tandem("resolve", "-w", ws)
    assert run.exit_code == 0, run.stderr
    assert "resolved 4 records into 2 customers" in run.stdout
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in run.stdout.splitlines()[1:]}
    assert lines["records"] == "4"
    assert lines["customers"] == "2"
    assert lines["merges by deterministic rule"] == "2"
    assert lines["merges by probabilistic match"] == "0"
    assert lines["identifiers (invalid, not used)"] == "1"
    assert lines["customer ids: new"] == "2"
    again = tandem("resolve", "--json", "-w", ws)
    assert again.exit_code == 0, again.stderr
    data = again.json()
    assert data["run"] == 2
    assert (data["records"], data["customers"], data["ids_continued"], data["ids_new"]) == (
        4,
        2,
        2,
        0,
    )
    assert data["invalid_by_type"] == {"phone": 1}
    assert data["matching"] == {"enabled": False}
    assert set(data["seconds"]) >= {"identifiers", "graph", "ids", "write", "profiles", "total"}


def test_resolve_on_an_empty_workspace(ws_path: Path, tandem: Tandem) -> None:
    run = tandem("resolve", "-w", ws_path)
    assert run.exit_code == 0, run.stderr
    assert "resolved 0 records into 0 customers" in run.stdout
    assert "No events yet" in run.stdout


def test_resolve_with_bad_settings_is_a_clear_error(ws: Path, tandem: Tandem) -> None:
    toml = ws / "tandem.toml"
    toml.write_text(toml.read_text().replace("enabled = false", "threshold = 7"))
    run = tandem("resolve", "-w", ws)
    assert run.exit_code != 0
    assert "identity.matching.threshold" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    # any command reads the settings, and reports the bad one at once
    run = tandem("sources", "list", "-w", ws)
    assert run.exit_code != 0
    assert "identity.matching.threshold" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr


def test_export_csv_and_parquet(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    assert tandem("resolve", "-w", ws).exit_code == 0
    csv = tmp_path / "ids.csv"
    run = tandem("identities", "export", "--out", csv, "-w", ws)
    assert run.exit_code == 0, run.stderr
    assert "wrote 4 records" in run.stdout
    table = pacsv.read_csv(csv)
    assert table.column_names == ["source", "record_id", "customer_id"]
    rows = {r["record_id"]: r["customer_id"] for r in table.to_pylist()}
    assert set(rows) == {"m1", "m2", "m3", "m4"}
    assert rows["m1"] == rows["m2"] == rows["m3"] != rows["m4"]
    parquet = tmp_path / "ids.parquet"
    run = tandem("identities", "export", "--out", parquet, "--json", "-w", ws)
    assert run.json() == {"file": str(parquet), "rows": 4}
    assert pq.read_table(parquet).to_pylist() == table.to_pylist()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_errors(ws: Path, tandem: Tandem, tmp_path: Path) -> None:
    before = tandem("identities", "export", "--out", tmp_path / "ids.csv", "-w", ws)
    assert before.exit_code == 1
    assert "nothing has been resolved" in before.stderr
    assert "tandem resolve" in before.stderr
    assert tandem("resolve", "-w", ws).exit_code == 0
    wrong = tandem("identities", "export", "--out", tmp_path / "ids.xlsx", "-w", ws)
    assert wrong.exit_code == 1
    assert "use a .csv or .parquet file" in wrong.stderr
    missing = tandem("identities", "export", "--out", tmp_path / "no" / "ids.csv", "-w", ws)
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr
    assert not (tmp_path / "ids.csv").exists()


def test_help_says_what_and_shows_an_example(tandem: Tandem) -> None:
    for args in (("resolve",), ("identities", "export")):
        run = tandem(*args, "--help")
        assert run.exit_code == 0
        assert "Example: tandem " + " ".join(args) in run.stdout
