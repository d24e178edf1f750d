"""The Segment spec: validate and normalise messages into rows of the lake's `events` table.

The rules (the same ones `tandem.customers.ingest` applies, vectorised, to files):

- `type` is one of MESSAGE_TYPES; an HTTP endpoint other than `batch` sets it.
- `userId` or `anonymousId` is required (a string, or a number coerced to its text; an empty
  string counts as missing). `messageId`, `groupId` and `previousId` take strings or numbers too.
- `track` needs `event` (a non-empty string); `group` needs `groupId`; `alias` needs `previousId`;
  `page`/`screen` may carry `name` (a string).
- `traits`, `properties` and `context` are JSON objects when present (stored as JSON text).
- `timestamp`, `originalTimestamp`, `sentAt` (and `receivedAt` in imported files) are ISO-8601
  date-times; one without a zone is UTC. Clock skew is corrected as Segment does: with `sentAt`,
  timestamp = receivedAt - (sentAt - originalTimestamp), where originalTimestamp is the message's
  `originalTimestamp`, else its `timestamp`; without `sentAt` the message's time is kept; without
  any time it is `receivedAt`.
- A message is at most MAX_MESSAGE_BYTES of JSON; a body at most MAX_BATCH_BYTES.
- A missing `messageId` is assigned: a random UUID over HTTP, and a hash of the source and the
  message text for file rows (so importing the same file twice is idempotent).

Unknown top-level fields (`integrations`, `channel`, `version`, ...) are ignored, as Segment does.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from tandem.errors import InvalidInput, Problem, TandemError
from tandem.lake.schema import EVENTS_SCHEMA, QUARANTINE_SCHEMA
from tandem.times import as_utc, parse_time

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_DEPTH = 64
"""The deepest nesting of objects and lists a request body may have."""
MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
ENDPOINTS = ("batch", *MESSAGE_TYPES)

ID_FIELDS = (
    ("messageId", "message_id"),
    ("userId", "user_id"),
    ("anonymousId", "anonymous_id"),
    ("groupId", "group_id"),
    ("previousId", "previous_id"),
)
OBJECT_FIELDS = ("traits", "properties", "context")
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class PayloadTooLarge(TandemError):
    """A request body over MAX_BATCH_BYTES."""

    status_code = 413
    error = "payload_too_large"


@dataclass(frozen=True)
class Rejection:
    """One message or file row that was not accepted, and why."""

    index: int | None
    """0-based position in an HTTP batch; 1-based row (line) number in a file."""
    field: str | None
    """The field at fault, e.g. "batch[3].userId"; None when the whole message is."""
    reason: str
    raw: str
    """The message or row as text, kept in quarantine."""


@dataclass
class Parsed:
    """Valid messages in the `events` schema, and the rejected ones."""

    events: pa.Table
    rejections: list[Rejection]
    source: str = ""
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    origin: str = "http"
    """Where the input came from, kept with each quarantined row ("http:batch", "file:x.csv")."""

    @property
    def total(self) -> int:
        return int(self.events.num_rows) + len(self.rejections)

    def quarantine(self, ingested_at: datetime) -> pa.Table:
        """The rejections as rows of the `quarantine` table."""
        n = len(self.rejections)
        return pa.table(
            {
                "source": [self.source] * n,
                "origin": [self.origin] * n,
                "index": [r.index for r in self.rejections],
                "field": [r.field for r in self.rejections],
                "reason": [r.reason for r in self.rejections],
                "raw": [r.raw for r in self.rejections],
                "received_at": [self.received_at] * n,
                "ingested_at": [ingested_at] * n,
            },
            schema=QUARANTINE_SCHEMA,
        )


class MessageError(Exception):
    """Internal: one message breaks a rule (`field` relative to the message)."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


# -- parsing a request body ----------------------------------------------------------------------
def parse_body(body: bytes, *, endpoint: str, source: str, received_at: datetime) -> Parsed:
    """Validate an HTTP request body for `POST /v1/{endpoint}`.

    `endpoint` is "batch" or one of MESSAGE_TYPES (the URL's type sets the message type). Raises
    PayloadTooLarge for a body over MAX_BATCH_BYTES; InvalidInput when the body as a whole is
    unusable (not UTF-8, not JSON, not an object, `batch` not a list, nesting deeper than
    MAX_DEPTH). An individual bad message becomes a Rejection; the others are in `events`.
    """
    if endpoint not in ENDPOINTS:
        raise InvalidInput(
            f"unknown endpoint {endpoint!r}; use one of {', '.join(ENDPOINTS)}",
            [Problem("unknown endpoint", field="endpoint")],
        )
    if len(body) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(
            f"the request body is {len(body):,} bytes; the limit is {MAX_BATCH_BYTES:,} "
            f"(500 KB) per request",
            detail="send fewer messages per batch",
        )
    data = decode_body(body)
    received_at = as_utc(received_at)
    if endpoint == "batch":
        batch = data.get("batch")
        if not isinstance(batch, list):
            raise InvalidInput(
                "the body needs a `batch` list of messages",
                [Problem("missing, or not a list", field="batch")],
            )
        messages: list[Any] = batch
        prefix = "batch"
        context = data.get("context")
    else:
        messages, prefix, context = [data], None, None
    return normalise_messages(
        messages,
        source=source,
        received_at=received_at,
        forced_type=None if endpoint == "batch" else endpoint,
        field_prefix=prefix,
        batch_context=context if isinstance(context, dict) else None,
        origin=f"http:{endpoint}",
    )


def decode_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidInput saying why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "the request body is not UTF-8 text",
            [Problem(f"byte 0x{body[exc.start]:02x} at offset {exc.start} is not valid UTF-8")],
        ) from None
    if not text.strip():
        raise InvalidInput("the request body is empty", [Problem("expected a JSON object")])
    try:
        data = _decoder.decode(text)
    except RecursionError:
        raise _too_deep_error() from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("the request body is not valid JSON", [Problem(str(exc))]) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            "the request body must be a JSON object",
            [Problem(f"got a JSON {_json_kind(data)}")],
        )
    if _too_deep(body, data):
        raise _too_deep_error()
    return data


def _too_deep_error() -> InvalidInput:
    return InvalidInput(
        f"the request body is nested more than {MAX_DEPTH} levels deep",
        [Problem("too deeply nested")],
    )


def _too_deep(body: bytes, data: Any) -> bool:
    """Whether the decoded body `data` (valid JSON `body`) nests objects and lists more than
    MAX_DEPTH deep. Without backslashes in the body, a string is what lies between two quotes,
    so the depth is the running count of the brackets outside strings (bytes methods and numpy:
    several times cheaper than walking `data`); with backslashes (escaped quotes) `data` is
    walked."""
    if body.count(b"{") + body.count(b"[") <= MAX_DEPTH:
        return False
    if b"\\" in body:
        return _depth(data) > MAX_DEPTH
    brackets = b"".join(body.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    steps = np.frombuffer(brackets, np.uint8)
    depth = np.cumsum(np.where((steps == ord("{")) | (steps == ord("[")), 1, -1), dtype=np.int32)
    return bool(depth.max() > MAX_DEPTH)


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"{}[]")


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of decoded JSON, stopping just past `limit`: level by level, queueing only
    the containers (a recursive walk visits every scalar too, at three times the cost)."""
    containers = (dict, list)
    level = [value] if isinstance(value, containers) else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        below: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below += [child for child in children if isinstance(child, containers)]
        level = below
    return depth


# -- normalising messages ------------------------------------------------------------------------
def normalise_messages(
    messages: Sequence[Any],
    *,
    source: str,
    received_at: datetime,
    forced_type: str | None = None,
    field_prefix: str | None = None,
    batch_context: dict[str, Any] | None = None,
    origin: str = "http",
    index_base: int = 0,
    deterministic_ids: bool = False,
) -> Parsed:
    """Validate decoded messages; return the accepted ones as `events` rows and the rest as
    rejections. `index_base` is added to each message's position (1 for file rows);
    `deterministic_ids` assigns a missing messageId from a hash of the source and message text."""
    received_at = as_utc(received_at)
    rows: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for position, message in enumerate(messages):
        index = position + index_base
        where = f"{field_prefix}[{position}]" if field_prefix else None
        raw = _raw_text(message)
        try:
            rows.append(
                normalise_message(
                    message,
                    raw=raw,
                    source=source,
                    received_at=received_at,
                    forced_type=forced_type,
                    batch_context=batch_context,
                    deterministic_ids=deterministic_ids,
                )
            )
        except MessageError as exc:
            path = ".".join(p for p in (where, exc.field) if p) or None
            rejections.append(Rejection(index, path, exc.reason, raw))
    ingested_at = datetime.now(UTC)
    for row in rows:
        row["ingested_at"] = ingested_at
    events = pa.Table.from_pydict(  # by columns: ~3x cheaper than from_pylist
        {name: [row[name] for row in rows] for name in EVENTS_SCHEMA.names}, schema=EVENTS_SCHEMA
    )
    return Parsed(events, rejections, source=source, received_at=received_at, origin=origin)


def normalise_message(
    message: Any,
    *,
    raw: str,
    source: str,
    received_at: datetime,
    forced_type: str | None = None,
    batch_context: dict[str, Any] | None = None,
    deterministic_ids: bool = False,
) -> dict[str, Any]:
    """One message as an `events` row (without `ingested_at`), or MessageError."""
    if not isinstance(message, dict):
        raise MessageError(f"a message must be a JSON object, not a {_json_kind(message)}")
    if len(raw.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise MessageError(f"the message is larger than {MAX_MESSAGE_BYTES // 1024} KB")
    kind = forced_type or message.get("type")
    if kind not in MESSAGE_TYPES:
        got = "missing" if kind is None else repr(kind)
        raise MessageError(f"type must be one of {', '.join(MESSAGE_TYPES)} (got {got})", "type")
    row: dict[str, Any] = {"source": source, "type": kind}
    for key, column in ID_FIELDS:
        row[column] = _id(message, key) if key in message else None
    if row["user_id"] is None and row["anonymous_id"] is None:
        raise MessageError("userId or anonymousId is required", "userId")
    row["event"] = _text(message, "event")
    row["name"] = _text(message, "name")
    if kind == "track" and not row["event"]:
        raise MessageError("event is required for a track call", "event")
    if kind == "group" and row["group_id"] is None:
        raise MessageError("groupId is required for a group call", "groupId")
    if kind == "alias" and row["previous_id"] is None:
        raise MessageError("previousId is required for an alias call", "previousId")
    for key in OBJECT_FIELDS:
        value = message.get(key)
        if key == "context" and batch_context and value is None:
            value = batch_context
        if value is not None and not isinstance(value, dict):
            raise MessageError(f"{key} must be an object, not a {_json_kind(value)}", key)
        row[key] = _encoder.encode(value).decode() if value is not None else None
    times = {key: _time(message, key) if key in message else None for key in TIME_FIELDS}
    received = times["receivedAt"] if deterministic_ids and times["receivedAt"] else received_at
    original = times["originalTimestamp"] or times["timestamp"]
    row["original_timestamp"] = original
    row["sent_at"] = times["sentAt"]
    row["received_at"] = received
    row["timestamp"] = corrected_timestamp(original, times["sentAt"], received)
    if row["message_id"] is None:
        row["message_id"] = file_message_id(source, raw) if deterministic_ids else str(uuid.uuid4())
    return row


def corrected_timestamp(
    original: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """Segment's clock-skew correction: receivedAt - (sentAt - originalTimestamp)."""
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def file_message_id(source: str, raw: str) -> str:
    """The messageId given to a file row without one: md5 of source, newline, row text."""
    return hashlib.md5(f"{source}\n{raw}".encode(), usedforsecurity=False).hexdigest()


def _id(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if type(value) is str:  # the common case first
        return value or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MessageError(f"{key} must be a string or a number, not a {_json_kind(value)}", key)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _text(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MessageError(f"{key} must be a string, not a {_json_kind(value)}", key)
    return value or None


def _time(message: dict[str, Any], key: str) -> datetime | None:
    value = message.get(key)
    if value is None:
        return None
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        shown = _encoder.encode(value).decode()[:60]
        raise MessageError(f"{key} is not an ISO-8601 date-time: {shown}", key)
    return parsed


def _raw_text(message: Any) -> str:
    try:
        return _encoder.encode(message).decode()
    except (TypeError, ValueError, OverflowError):  # pragma: no cover - decoded JSON re-encodes
        return repr(message)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"
