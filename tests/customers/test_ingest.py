"""File ingest: formats, nasty files, idempotent re-imports, streaming in chunks, one commit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.customers.ingest import IngestResult, guess_format, ingest_file
from tandem.errors import InvalidInput, InvalidValue
from tandem.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path / "lake")
    yield lake  # type: ignore[misc]
    lake.close()


def track(i: int, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{i}", "event": "Viewed", "messageId": f"m{i}", **extra}


def ndjson(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def balanced(result: IngestResult) -> bool:
    return result.accepted + result.rejected + result.duplicates == result.rows


def quarantined(lake: Lake) -> list[tuple[int | None, str]]:
    rows = lake.quarantine().order_by("index").to_pyarrow().to_pylist()
    return [(r["index"], r["reason"]) for r in rows]


def events(lake: Lake) -> list[dict[str, Any]]:
    table = lake.events()
    return table.order_by(table.message_id).to_pyarrow().to_pylist()


# -- NDJSON --------------------------------------------------------------------------------------
def test_ndjson_import_and_reimport_is_all_duplicates(tmp_path: Path, lake: Lake) -> None:
    file = ndjson(tmp_path / "e.ndjson", [track(i) for i in range(5)] + [{"type": "track"}])
    first = ingest_file(lake, file, source="web")
    assert (first.rows, first.accepted, first.rejected, first.duplicates) == (6, 5, 1, 0)
    again = ingest_file(lake, file, source="web")
    assert (again.rows, again.accepted, again.rejected, again.duplicates) == (6, 0, 1, 5)
    assert again.version is None
    assert len(events(lake)) == 5


def test_rows_without_message_id_get_a_stable_one(tmp_path: Path, lake: Lake) -> None:
    rows = [{"type": "identify", "userId": i, "traits": {"n": i}} for i in range(3)]
    file = ndjson(tmp_path / "crm.ndjson", rows)
    assert ingest_file(lake, file, source="crm").accepted == 3
    assert ingest_file(lake, file, source="crm").duplicates == 3
    stored = events(lake)
    assert {e["user_id"] for e in stored} == {"0", "1", "2"}  # numbers as ids become strings
    assert all(len(e["message_id"]) == 32 for e in stored)


NASTY: dict[str, tuple[bytes, int, int, list[str]]] = {
    # name: (content, rows, accepted, reasons of the rejected rows in order)
    "empty": (b"", 0, 0, []),
    "only blank lines": (b"\n\n  \n\r\n", 0, 0, []),
    "bom": (b'\xef\xbb\xbf{"type":"track","userId":"a","event":"E"}\n', 1, 1, []),
    "crlf": (
        b'{"type":"track","userId":"a","event":"E"}\r\n{"type":"page","userId":"b"}\r\n',
        2,
        2,
        [],
    ),
    "truncated last line": (
        b'{"type":"track","userId":"a","event":"E"}\n{"type":"track","userId":"b","ev',
        2,
        1,
        ["the row is not valid JSON"],
    ),
    "no final newline": (b'{"type":"page","userId":"a"}', 1, 1, []),
    "wrong encoding": (
        '{"type":"identify","userId":"a","traits":{"city":"Malmö"}}\n'.encode("latin-1")
        + b'{"type":"page","userId":"b"}\n',
        2,
        1,
        ["the row is not UTF-8 text (byte 0xf6 at column 55)"],
    ),
    "control characters": (
        b'{"type":"track","userId":"a\x01","event":"E"}\n'
        b'{"type":"track","userId":"a\\u0001","event":"E\\u0000"}\n',
        2,
        1,
        ["the row is not valid JSON"],
    ),
    "not objects": (
        b'[1,2]\n"text"\n42\nnull\n',
        4,
        0,
        [
            "a message must be a JSON object, not a list",
            "a message must be a JSON object, not a string",
            "a message must be a JSON object, not a number",
            "a message must be a JSON object, not a null",
        ],
    ),
    "huge numbers": (b'{"type":"page","userId":123456789012345678901234567890}\n', 1, 1, []),
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_ndjson_files(tmp_path: Path, lake: Lake, name: str) -> None:
    content, rows, accepted, reasons = NASTY[name]
    file = tmp_path / "nasty.ndjson"
    file.write_bytes(content)
    result = ingest_file(lake, file, source="web")
    assert (result.rows, result.accepted) == (rows, accepted)
    assert [reason for _, reason in quarantined(lake)] == reasons
    assert balanced(result)
    assert lake.table("events").version() == (1 if accepted else 0)  # no empty commit


def test_a_40_kb_row_is_rejected_and_deep_nesting_is_kept(tmp_path: Path, lake: Lake) -> None:
    big = track(1, properties={"pad": "x" * 40_000})
    deep: Any = {"leaf": 1}
    for _ in range(200):
        deep = {"d": deep}
    nested = track(2, properties=deep)
    file = ndjson(tmp_path / "e.ndjson", [big, nested, track(3)])
    result = ingest_file(lake, file, source="web")
    assert (result.rows, result.accepted, result.rejected) == (3, 2, 1)
    assert quarantined(lake) == [(1, "the message is larger than 32 KB")]
    stored = {e["message_id"]: e for e in events(lake)}
    assert json.loads(stored["m2"]["properties"]) == deep
    raw = lake.quarantine().to_pyarrow().to_pylist()[0]["raw"]
    assert json.loads(raw) == big  # the whole row is kept in quarantine


def test_file_rows_keep_their_own_times(tmp_path: Path, lake: Lake) -> None:
    row = track(
        1,
        timestamp="2025-05-01T10:00:00Z",
        sentAt="2025-05-01T10:00:30Z",
        receivedAt="2025-05-01T10:00:10Z",
    )
    ingest_file(lake, ndjson(tmp_path / "e.ndjson", [row]), source="web")
    stored = events(lake)[0]
    assert stored["timestamp"].isoformat() == "2025-05-01T09:59:40+00:00"  # skew corrected
    assert stored["received_at"].isoformat() == "2025-05-01T10:00:10+00:00"


def test_a_file_larger_than_a_chunk_streams_into_one_commit(tmp_path: Path, lake: Lake) -> None:
    rows = [track(i) for i in range(2_000)] + [{"type": "track", "userId": "x"}] * 3
    file = ndjson(tmp_path / "big.ndjson", rows)
    seen: list[tuple[int, int | None]] = []
    result = ingest_file(
        lake,
        file,
        source="web",
        chunk_bytes=4096,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert len(seen) > 20  # many chunks
    assert seen[-1] == (file.stat().st_size, file.stat().st_size)
    assert (result.rows, result.accepted, result.rejected) == (2_003, 2_000, 3)
    assert result.version == 1  # one commit (version 0 created the table)
    assert [i for i, _ in quarantined(lake)] == [2001, 2002, 2003]


def test_a_failure_part_way_leaves_nothing_behind(tmp_path: Path, lake: Lake) -> None:
    file = ndjson(tmp_path / "big.ndjson", [track(i) for i in range(1_000)])

    def interrupt(done: int, total: int | None) -> None:
        if done > 10_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(lake, file, source="web", chunk_bytes=4096, on_progress=interrupt)
    assert events(lake) == []
    assert lake.table("events").version() == 0
    data = [
        f for f in (tmp_path / "lake" / "events").rglob("*.parquet") if "_delta_log" not in str(f)
    ]
    assert data == []  # the files of the chunks written before the interruption are deleted
    # and the next attempt imports everything (the dedupe memory was not polluted)
    assert ingest_file(lake, file, source="web").accepted == 1_000


# -- JSON ----------------------------------------------------------------------------------------
def test_json_array_and_batch_object(tmp_path: Path, lake: Lake) -> None:
    (tmp_path / "a.json").write_text(json.dumps([track(1), track(2), "x"]))
    (tmp_path / "b.json").write_text(json.dumps({"batch": [track(3)], "sentAt": "x"}))
    a = ingest_file(lake, tmp_path / "a.json", source="web")
    b = ingest_file(lake, tmp_path / "b.json", source="web")
    assert (a.rows, a.accepted, a.rejected, b.accepted) == (3, 2, 1, 1)
    assert quarantined(lake) == [(3, "a message must be a JSON object, not a string")]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{nope", "not valid JSON"), ('{"x": 1}', "array of messages"), ("5", "array")],
)
def test_unusable_json_files(tmp_path: Path, lake: Lake, content: str, message: str) -> None:
    (tmp_path / "x.json").write_text(content)
    with pytest.raises(InvalidInput, match=message):
        ingest_file(lake, tmp_path / "x.json", source="web")
    assert events(lake) == []


# -- CSV -----------------------------------------------------------------------------------------
def test_csv_columns_are_segment_fields_and_dotted_columns_build_objects(
    tmp_path: Path, lake: Lake
) -> None:
    (tmp_path / "e.csv").write_text(
        "type,userId,event,properties.sku,properties.price,context.ip,timestamp\n"
        "track,007,Bought,SKU-1,9.99,10.0.0.1,2026-01-02T03:04:05Z\n"
        "track,8,Bought,,1.50,,\n"
        "page,,,,,,\n"
    )
    result = ingest_file(lake, tmp_path / "e.csv", source="pos")
    assert (result.rows, result.accepted, result.rejected) == (3, 2, 1)
    stored = sorted(events(lake), key=lambda e: e["user_id"])
    assert stored[0]["user_id"] == "007"  # text stays text: leading zeros kept
    assert json.loads(stored[0]["properties"]) == {"sku": "SKU-1", "price": "9.99"}
    assert json.loads(stored[0]["context"]) == {"ip": "10.0.0.1"}
    assert json.loads(stored[1]["properties"]) == {"price": "1.50"}  # empty cells left out
    assert stored[0]["timestamp"].isoformat() == "2026-01-02T03:04:05+00:00"
    assert quarantined(lake) == [(3, "userId or anonymousId is required")]


CSV_NASTY: dict[str, tuple[bytes, int, int, int]] = {
    # name: (content, rows, accepted, rejected)
    "empty": (b"", 0, 0, 0),
    "header only": (b"type,userId,event\n", 0, 0, 0),
    "bom": (b"\xef\xbb\xbftype,userId\npage,a\n", 1, 1, 0),
    "wrong number of cells": (b"type,userId\npage,a\npage,b,extra\npage\n", 3, 1, 2),
    "wrong encoding": ("type,userId,name\npage,a,Malmö\npage,b,ok\n".encode("latin-1"), 2, 1, 1),
    "quoted newline": (b'type,userId,name\npage,a,"two\nlines"\n', 1, 1, 0),
}


@pytest.mark.parametrize("name", sorted(CSV_NASTY))
def test_nasty_csv_files(tmp_path: Path, lake: Lake, name: str) -> None:
    content, rows, accepted, rejected = CSV_NASTY[name]
    (tmp_path / "x.csv").write_bytes(content)
    result = ingest_file(lake, tmp_path / "x.csv", source="crm")
    assert (result.rows, result.accepted, result.rejected) == (rows, accepted, rejected)
    assert balanced(result)


def test_csv_rejections_say_why(tmp_path: Path, lake: Lake) -> None:
    content = "type,userId,name\npage,a,Malmö\npage,b,ok,extra\n".encode("latin-1")
    (tmp_path / "x.csv").write_bytes(content)
    ingest_file(lake, tmp_path / "x.csv", source="crm")
    rows = lake.quarantine().to_pyarrow().to_pylist()
    assert sorted(r["reason"] for r in rows) == [
        "the row has 4 cells; the header has 3",
        "the row is not UTF-8 text",
    ]
    assert any(r["raw"] == "page,a,Malm\ufffd" for r in rows)


# -- Parquet -------------------------------------------------------------------------------------
def test_parquet_with_typed_and_struct_columns(tmp_path: Path, lake: Lake) -> None:
    table = pa.table(
        {
            "type": ["track", "identify", "track"],
            "userId": [12, 13, None],
            "event": ["Bought", None, "Bought"],
            "properties": [{"price": 9.5, "qty": 2}, None, {"price": 1.0, "qty": 1}],
            "traits.email": [None, "ann@example.com", None],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    result = ingest_file(lake, tmp_path / "e.parquet", source="app")
    assert (result.rows, result.accepted, result.rejected) == (3, 2, 1)
    stored = sorted(events(lake), key=lambda e: e["user_id"])
    assert [e["user_id"] for e in stored] == ["12", "13"]
    assert json.loads(stored[0]["properties"]) == {"price": 9.5, "qty": 2}
    assert json.loads(stored[1]["traits"]) == {"email": "ann@example.com"}


def test_parquet_in_small_batches_and_not_a_parquet_file(tmp_path: Path, lake: Lake) -> None:
    table = pa.table({"type": ["page"] * 1000, "userId": [f"u{i}" for i in range(1000)]})
    pq.write_table(table, tmp_path / "e.parquet", row_group_size=100)
    result = ingest_file(lake, tmp_path / "e.parquet", source="app", chunk_rows=64)
    assert (result.rows, result.accepted, result.version) == (1000, 1000, 1)
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(InvalidInput, match="not a readable Parquet file"):
        ingest_file(lake, tmp_path / "fake.parquet", source="app")


# -- arguments -----------------------------------------------------------------------------------
def test_format_from_extension_or_given(tmp_path: Path, lake: Lake) -> None:
    assert guess_format(Path("a.jsonl")) == "ndjson"
    assert guess_format(Path("a.CSV")) == "csv"
    with pytest.raises(InvalidValue, match="cannot tell the format"):
        guess_format(Path("data.txt"))
    file = ndjson(tmp_path / "data.txt", [track(1)])
    assert ingest_file(lake, file, source="web", format="ndjson").accepted == 1
    with pytest.raises(InvalidValue, match="unknown format"):
        ingest_file(lake, file, source="web", format="xml")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.ndjson", "does not exist"),
        (lambda p: p, "is a folder"),
    ],
)
def test_missing_file(
    tmp_path: Path, lake: Lake, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        ingest_file(lake, make(tmp_path), source="web", format="ndjson")


def test_columns_read_directly_give_the_same_verdicts_as_their_json_text() -> None:
    """Parquet/CSV columns become the message without a JSON round trip: every verdict, field,
    reason, raw text, hash-assigned messageId and value equals the JSON text path's."""
    from tandem.customers import ingest as ingest_module

    table = pa.table(
        {
            "row": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "type": ["track", "bogus", "track", "identify", None],
            "messageId": [None, "m2", "m3", None, "m5"],
            "userId": ["u1", "u2", None, 'é"x', "u5"],
            "event": ["E", "E", "E", None, "E"],
            "timestamp": ["2026-01-01T00:00:00Z", "nope", None, "2026-02-01", None],
            "properties.big": ["x" * 40_000, "a", "b", None, None],
            "properties.n": [1.5, None, 2.0, 3.0, None],
        }
    )
    results = []
    for direct in (False, True):
        validator = ingest_module._Validator(source="s", origin="f", mapping=None)
        validator.check_columns(table.column_names[1:], "the file")
        if not direct:
            validator._direct = None
        events, quarantine = validator.validate(ingest_module.Chunk(table, [], 5, records=True))
        validator.close()
        stamps = ["ingested_at", "received_at"]
        results.append((events.drop(stamps).to_pylist(), quarantine.drop(stamps).to_pylist()))
    assert results[0] == results[1]
    events, rejected = results[1]
    assert [r["index"] for r in rejected] == [1, 2, 3, 5]
    assert rejected[0]["reason"] == "the message is larger than 32 KB"
    assert len(events) == 1 and len(events[0]["message_id"]) == 32  # md5 of source + text


def _both_paths(table: pa.Table) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """The rows of `table` (with a `row` column) validated from their JSON text and read from
    their typed columns: (events, quarantine) of each, without the write times."""
    from tandem.customers import ingest as ingest_module

    results = []
    for direct in (False, True):
        validator = ingest_module._Validator(source="s", origin="f", mapping=None)
        validator.received_at = datetime(2026, 11, 23, 12, tzinfo=UTC)
        validator.con.register(
            "params",
            pa.table({"source": ["s"], "received_at": pa.array([validator.received_at])}),
        )
        validator.check_columns(table.column_names[1:], "the file")
        if not direct:
            validator._direct = None
        chunk = ingest_module.Chunk(table, [], table.num_rows, records=True)
        events, quarantine = validator.validate(chunk)
        validator.close()
        stamps = ["ingested_at", "received_at"]
        results.append((events.drop(stamps).to_pylist(), quarantine.drop(stamps).to_pylist()))
    return results


def test_typed_parquet_columns_give_the_json_paths_verdicts_and_values() -> None:
    """Integer, boolean, struct, double, timestamp and list columns read straight from their
    Arrow types give exactly what their JSON text gives: values, verdicts, reasons, raw text."""
    n = 8
    table = pa.table(
        {
            "row": pa.array(range(1, n + 1), pa.int64()),
            "type": pa.array(["track", "identify", "group", "track", "page", None, "alias", "x"]),
            "messageId": pa.array([7, None, 9, 10, 11, 12, None, 14], pa.int64()),
            "userId": pa.array([True, None, None, False, None, None, None, None], pa.bool_()),
            "anonymousId": pa.array([1.0, 2.5, 3.0, None, 4.0, None, 6.0, None], pa.float64()),
            "groupId": pa.array([None, None, 'g"1\\', None, None, None, None, None]),
            "previousId": pa.array([None, None, None, None, None, None, "p\n1", None]),
            "event": pa.array(["E", None, None, "\u00e9\u2028", None, None, None, "E"]),
            "traits": pa.array(
                [None, {"a": 1, "b": None}, None, None, None, {"a": 2, "b": "z"}, None, None],
                pa.struct([("a", pa.int64()), ("b", pa.string())]),
            ),
            "properties": pa.array(
                [[1], None, None, None, None, None, None, None], pa.list_(pa.int64())
            ),
            "timestamp": pa.array(
                [0, 1_700_000_000_000_000, None, 5, None, None, None, None],
                pa.timestamp("us"),
            ),
            "sentAt": pa.array(
                ["2026-01-01T00:00:00Z", None, "later", None, None, None, None, None]
            ),
        }
    )
    (json_events, json_rejected), (typed_events, typed_rejected) = _both_paths(table)
    assert typed_events == json_events
    assert typed_rejected == json_rejected
    by_row = {r["index"]: (r["field"], r["reason"]) for r in typed_rejected}
    assert by_row[1][0] == "userId"  # a boolean id is not an id
    assert by_row[3][0] == "sentAt"
    assert by_row[6] == (
        "type",
        "type must be one of identify, track, page, screen, group, alias (got missing)",
    )
    assert [e["anonymous_id"] for e in typed_events][:1] == ["2.5"]
    identify = next(e for e in typed_events if e["type"] == "identify")
    assert json.loads(identify["traits"]) == {"a": 1, "b": None}
    assert identify["message_id"] is not None and len(identify["message_id"]) == 32
