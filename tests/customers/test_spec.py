"""The Segment spec: each rule, skew correction, limits at the boundary, body errors, and the
same rules applied by the vectorised file path (customers.ingest) giving the same answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tandem.customers.ingest import ingest_file
from tandem.customers.spec import (
    MAX_BATCH_BYTES,
    MAX_DEPTH,
    MAX_MESSAGE_BYTES,
    PayloadTooLarge,
    corrected_timestamp,
    file_message_id,
    normalise_messages,
    parse_body,
    parse_time,
)
from tandem.errors import InvalidInput
from tandem.lake import Lake

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def batch(*messages: Any) -> bytes:
    return body({"batch": list(messages)})


def reasons(raw: bytes, endpoint: str = "batch") -> list[tuple[int | None, str | None, str]]:
    parsed = parse_body(raw, endpoint=endpoint, source="web", received_at=NOW)
    return [(r.index, r.field, r.reason) for r in parsed.rejections]


# -- each rule -----------------------------------------------------------------------------------
CASES: list[tuple[dict[str, Any] | Any, str | None, str | None]] = [
    ({"type": "track", "userId": "u1", "event": "Bought"}, None, None),
    ({"type": "identify", "anonymousId": "a1", "traits": {"email": "a@b.c"}}, None, None),
    ({"type": "page", "userId": 42, "name": "Home"}, None, None),
    ({"type": "screen", "userId": "u1"}, None, None),
    ({"type": "group", "userId": "u1", "groupId": 7}, None, None),
    ({"type": "alias", "userId": "u1", "previousId": "a1"}, None, None),
    ({"type": "fly", "userId": "u1"}, "type", "type must be one of"),
    ({"userId": "u1"}, "type", "(got missing)"),
    ({"type": "track", "event": "X"}, "userId", "userId or anonymousId is required"),
    ({"type": "track", "userId": "", "event": "X"}, "userId", "userId or anonymousId"),
    ({"type": "track", "userId": True, "event": "X"}, "userId", "not a boolean"),
    ({"type": "track", "userId": {"id": 1}, "event": "X"}, "userId", "not a object"),
    ({"type": "track", "anonymousId": [1], "event": "X"}, "anonymousId", "not a list"),
    ({"type": "track", "userId": "u", "messageId": False, "event": "X"}, "messageId", "boolean"),
    ({"type": "track", "userId": "u1"}, "event", "event is required for a track call"),
    ({"type": "track", "userId": "u1", "event": ""}, "event", "event is required"),
    ({"type": "track", "userId": "u1", "event": 5}, "event", "event must be a string"),
    ({"type": "page", "userId": "u1", "name": ["x"]}, "name", "name must be a string"),
    ({"type": "group", "userId": "u1"}, "groupId", "groupId is required for a group call"),
    ({"type": "alias", "userId": "u1"}, "previousId", "previousId is required"),
    ({"type": "identify", "userId": "u1", "traits": [1]}, "traits", "traits must be an object"),
    ({"type": "track", "userId": "u", "event": "X", "properties": "p"}, "properties", "object"),
    ({"type": "track", "userId": "u", "event": "X", "context": 3}, "context", "object"),
    ({"type": "track", "userId": "u", "event": "X", "timestamp": "soon"}, "timestamp", "ISO"),
    ({"type": "track", "userId": "u", "event": "X", "timestamp": 1700000000}, "timestamp", "ISO"),
    ({"type": "track", "userId": "u", "event": "X", "sentAt": "2026-13-01"}, "sentAt", "ISO"),
    ("just text", None, "a message must be a JSON object, not a string"),
    ([1, 2], None, "not a list"),
]


@pytest.mark.parametrize(("message", "field", "reason"), CASES)
def test_each_rule(message: Any, field: str | None, reason: str | None) -> None:
    parsed = parse_body(batch(message), endpoint="batch", source="web", received_at=NOW)
    assert parsed.total == 1
    if reason is None:
        assert parsed.rejections == []
        assert parsed.events.num_rows == 1
        return
    assert parsed.events.num_rows == 0
    (rejection,) = parsed.rejections
    assert rejection.index == 0
    assert rejection.field == (f"batch[0].{field}" if field else "batch[0]")
    assert reason in rejection.reason
    assert json.loads(rejection.raw) == message


@pytest.mark.parametrize(("message", "field", "reason"), CASES)
def test_files_apply_the_same_rules(
    tmp_path: Path, message: Any, field: str | None, reason: str | None
) -> None:
    """The vectorised SQL of file ingest gives the same verdict, field and reason text."""
    file = tmp_path / "one.ndjson"
    file.write_text(json.dumps(message) + "\n")
    lake = Lake(tmp_path / "lake")
    result = ingest_file(lake, file, source="web")
    python = normalise_messages([message], source="web", received_at=NOW, index_base=1)
    assert result.rows == 1
    assert result.accepted == python.events.num_rows
    if python.rejections:
        stored = lake.quarantine().to_pyarrow().to_pylist()
        assert [(r["index"], r["field"], r["reason"]) for r in stored] == [
            (r.index, r.field, r.reason) for r in python.rejections
        ]
    else:
        stored = lake.events().to_pyarrow().to_pylist()[0]
        expected = python.events.to_pylist()[0]
        for column in ("type", "user_id", "anonymous_id", "event", "name", "group_id"):
            assert stored[column] == expected[column], column
        for column in ("traits", "properties", "context"):
            assert _json(stored[column]) == _json(expected[column])
    lake.close()


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# -- normalisation -------------------------------------------------------------------------------
def test_ids_are_strings_and_numbers_are_coerced() -> None:
    parsed = parse_body(
        batch({"type": "group", "userId": 12, "anonymousId": 3.0, "groupId": 1.5, "messageId": 99}),
        endpoint="batch",
        source="web",
        received_at=NOW,
    )
    row = parsed.events.to_pylist()[0]
    assert (row["user_id"], row["anonymous_id"], row["group_id"], row["message_id"]) == (
        "12",
        "3",
        "1.5",
        "99",
    )


def test_missing_message_id_is_assigned() -> None:
    message = {"type": "track", "userId": "u", "event": "X"}
    one = parse_body(batch(message), endpoint="batch", source="web", received_at=NOW)
    two = parse_body(batch(message), endpoint="batch", source="web", received_at=NOW)
    ids = [one.events.column("message_id")[0].as_py(), two.events.column("message_id")[0].as_py()]
    assert all(len(i) == 36 for i in ids) and ids[0] != ids[1]  # random UUIDs over HTTP
    files = normalise_messages([message], source="web", received_at=NOW, deterministic_ids=True)
    raw = json.dumps(message, separators=(",", ":"))
    assert files.events.column("message_id")[0].as_py() == file_message_id("web", raw)


def test_objects_are_stored_as_json_text() -> None:
    message = {
        "type": "identify",
        "userId": "u",
        "traits": {"email": "ann@example.com", "tags": ["a", "b"], "address": {"city": "Bath"}},
        "context": {"ip": "10.0.0.1"},
    }
    row = parse_body(batch(message), endpoint="batch", source="web", received_at=NOW)
    stored = row.events.to_pylist()[0]
    assert json.loads(stored["traits"]) == message["traits"]
    assert json.loads(stored["context"]) == {"ip": "10.0.0.1"}
    assert stored["properties"] is None


def test_url_type_wins_and_single_endpoints_have_no_batch_prefix() -> None:
    parsed = parse_body(
        body({"type": "identify", "userId": "u", "event": "Clicked"}),
        endpoint="track",
        source="web",
        received_at=NOW,
    )
    assert parsed.events.column("type").to_pylist() == ["track"]
    assert reasons(body({"userId": "u"}), endpoint="track") == [
        (0, "event", "event is required for a track call")
    ]


def test_batch_context_applies_to_messages_without_one() -> None:
    raw = body(
        {
            "batch": [
                {"type": "track", "userId": "u", "event": "X"},
                {"type": "track", "userId": "u", "event": "Y", "context": {"own": 1}},
            ],
            "context": {"library": {"name": "analytics-python"}},
        }
    )
    parsed = parse_body(raw, endpoint="batch", source="web", received_at=NOW)
    contexts = [json.loads(c) for c in parsed.events.column("context").to_pylist()]
    assert contexts == [{"library": {"name": "analytics-python"}}, {"own": 1}]


# -- clock skew ----------------------------------------------------------------------------------
def test_skew_correction_numbers() -> None:
    """The device clock is 5 minutes fast: it says the event happened at 12:04:00 and the batch
    was sent at 12:05:00; the server received it at 12:00:02. The event really happened 60 s
    before the send, so at 12:00:02 - 60 s = 11:59:02."""
    message = {
        "type": "track",
        "userId": "u",
        "event": "X",
        "timestamp": "2026-03-01T12:04:00Z",
        "sentAt": "2026-03-01T12:05:00Z",
    }
    received = datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)
    parsed = parse_body(batch(message), endpoint="batch", source="web", received_at=received)
    row = parsed.events.to_pylist()[0]
    assert row["timestamp"] == datetime(2026, 3, 1, 11, 59, 2, tzinfo=UTC)
    assert row["original_timestamp"] == datetime(2026, 3, 1, 12, 4, tzinfo=UTC)
    assert row["sent_at"] == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    assert row["received_at"] == received


def test_original_timestamp_wins_over_timestamp_and_zones_are_converted() -> None:
    assert corrected_timestamp(None, None, NOW) == NOW
    original = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert corrected_timestamp(original, None, NOW) == original
    message = {
        "type": "track",
        "userId": "u",
        "event": "X",
        "timestamp": "2020-01-01T00:00:00Z",
        "originalTimestamp": "2026-03-01T13:00:00+02:00",
        "sentAt": "2026-03-01T11:00:30Z",
    }
    row = parse_body(batch(message), endpoint="batch", source="web", received_at=NOW).events
    assert row.to_pylist()[0]["timestamp"] == NOW - timedelta(seconds=30)


def test_parse_time_forms() -> None:
    assert parse_time("2026-03-01T12:00:00.250Z") == datetime(2026, 3, 1, 12, 0, 0, 250000, UTC)
    assert parse_time("2026-03-01 12:00:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_time("2026-03-01T14:00:00+02:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_time("yesterday") is None


# -- limits --------------------------------------------------------------------------------------
def _message_of_size(size: int) -> dict[str, Any]:
    base = {"type": "track", "userId": "u", "event": "X", "properties": {"pad": ""}}
    overhead = len(json.dumps(base, separators=(",", ":")))
    base["properties"] = {"pad": "x" * (size - overhead)}
    assert len(json.dumps(base, separators=(",", ":"))) == size
    return base


def test_message_size_limit_at_the_boundary() -> None:
    at_limit = _message_of_size(MAX_MESSAGE_BYTES)
    over = _message_of_size(MAX_MESSAGE_BYTES + 1)
    parsed = parse_body(batch(at_limit, over), endpoint="batch", source="w", received_at=NOW)
    assert parsed.events.num_rows == 1
    assert [(r.index, r.reason) for r in parsed.rejections] == [
        (1, "the message is larger than 32 KB")
    ]


def test_batch_size_limit_at_the_boundary() -> None:
    message = {"type": "track", "userId": "u", "event": "X", "properties": {"pad": ""}}
    raw = batch(message)
    pad = MAX_BATCH_BYTES - len(raw)
    message["properties"] = {"pad": "x" * pad}
    exact = batch(message)
    assert len(exact) == MAX_BATCH_BYTES
    # one message over 32 KB is rejected on its own; the body itself is accepted
    assert parse_body(exact, endpoint="batch", source="w", received_at=NOW).total == 1
    with pytest.raises(PayloadTooLarge) as caught:
        parse_body(exact + b" ", endpoint="batch", source="w", received_at=NOW)
    assert caught.value.status_code == 413


# -- whole-body errors ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{nope", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"batch": {"type": "track"}}', "`batch` list"),
        (b'{"sentAt": "x"}', "`batch` list"),
    ],
)
def test_unusable_bodies(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(raw, endpoint="batch", source="w", received_at=NOW)
    assert message in caught.value.message
    assert caught.value.status_code == 400


def test_deep_nesting_is_refused_but_the_limit_itself_is_fine() -> None:
    def nested(depth: int) -> bytes:
        # body object (1) + properties object (1) + lists
        inner = "[" * (depth - 2) + "]" * (depth - 2)
        return f'{{"type":"track","userId":"u","event":"X","properties":{{"a":{inner}}}}}'.encode()

    assert parse_body(nested(MAX_DEPTH), endpoint="track", source="w", received_at=NOW).total == 1
    with pytest.raises(InvalidInput, match="nested more than"):
        parse_body(nested(MAX_DEPTH + 1), endpoint="track", source="w", received_at=NOW)
    with pytest.raises(InvalidInput, match="nested more than"):
        parse_body(b"[" * 100_000 + b"]" * 100_000, endpoint="batch", source="w", received_at=NOW)


def test_control_characters_and_huge_numbers() -> None:
    raw = b'{"type":"track","userId":"u\x01","event":"X"}'
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_body(raw, endpoint="track", source="w", received_at=NOW)
    escaped = body({"type": "track", "userId": "u\u0001", "event": "X\u0000"})
    assert parse_body(escaped, endpoint="track", source="w", received_at=NOW).events.num_rows == 1
    huge = b'{"type":"track","userId":123456789012345678901234567890,"event":"X"}'
    parsed = parse_body(huge, endpoint="track", source="w", received_at=NOW)
    assert parsed.events.column("user_id").to_pylist() == ["123456789012345678901234567890"]


def test_unknown_endpoint() -> None:
    with pytest.raises(InvalidInput, match="unknown endpoint"):
        parse_body(b"{}", endpoint="delete", source="w", received_at=NOW)


def test_quarantine_rows_carry_source_origin_and_raw() -> None:
    parsed = parse_body(batch({"type": "track"}), endpoint="batch", source="app", received_at=NOW)
    rows = parsed.quarantine(NOW).to_pylist()
    assert rows == [
        {
            "source": "app",
            "origin": "http:batch",
            "index": 0,
            "field": "batch[0].userId",
            "reason": "userId or anonymousId is required",
            "raw": '{"type":"track"}',
            "received_at": NOW,
            "ingested_at": NOW,
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"a": "{{{{[[[[" * 20, "b": [[[1]]]},  # brackets inside strings do not nest
        {"a": '\\"{{{{' * 30, "b": {"c": "]]]]" * 30}},  # escaped quotes: the value is walked
        {"deep": json.loads("[" * 63 + "]" * 63), "pad": ["{"] * 100},  # 64: the limit
        {"deep": json.loads("[" * 65 + "]" * 65)},
        {"deep": json.loads('{"k":' * 70 + "1" + "}" * 70), "s": "x" * 10},
        {"many": [[{"k": [1, 2]}] for _ in range(200)]},
    ],
)
def test_the_depth_check_from_the_brackets_equals_walking_the_value(body: Any) -> None:
    from tandem.customers import spec

    raw = json.dumps(body).encode()
    assert spec._too_deep(raw, body) == (spec._depth(body) > MAX_DEPTH)
