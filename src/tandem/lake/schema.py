"""The fixed schemas of the lake's Delta tables.

`events` holds one row per accepted Segment message: typed columns for the fields every later
stage queries (ids, type, event name, times) and JSON text for the free-form objects (`traits`,
`properties`, `context`). It is partitioned by `source`, so deduplication and "events of one
source" read only that source's files. `quarantine` holds every rejected message or file row with
the reason, so nothing is silently dropped.
"""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped]

UTC_MICROS = pa.timestamp("us", tz="UTC")

EVENTS = "events"
QUARANTINE = "quarantine"

EVENTS_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("anonymous_id", pa.string()),
        pa.field("event", pa.string()),
        pa.field("name", pa.string()),
        pa.field("group_id", pa.string()),
        pa.field("previous_id", pa.string()),
        pa.field("traits", pa.string()),
        pa.field("properties", pa.string()),
        pa.field("context", pa.string()),
        pa.field("timestamp", UTC_MICROS, nullable=False),
        pa.field("original_timestamp", UTC_MICROS),
        pa.field("sent_at", UTC_MICROS),
        pa.field("received_at", UTC_MICROS, nullable=False),
        pa.field("ingested_at", UTC_MICROS, nullable=False),
    ]
)
"""One accepted message. `traits`/`properties`/`context` are JSON object text or null;
`timestamp` is the skew-corrected event time, `received_at` when Tandem (or, for an imported
export, the original collector) received it, `ingested_at` when it was written to the lake."""

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("index", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("received_at", UTC_MICROS, nullable=False),
        pa.field("ingested_at", UTC_MICROS, nullable=False),
    ]
)
"""One rejected input. `origin` says where it came from ("http:batch", "file:crm.csv");
`index` is the 0-based position in an HTTP batch or the 1-based row/line number in a file."""

PARTITIONS = {EVENTS: ["source"], QUARANTINE: ["source"]}
SCHEMAS = {EVENTS: EVENTS_SCHEMA, QUARANTINE: QUARANTINE_SCHEMA}
