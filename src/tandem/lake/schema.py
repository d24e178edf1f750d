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

# -- derived tables: rewritten whole (one overwrite commit) by `tandem resolve` ---------------
IDENTITIES = "identities"
IDENTITY_LINKS = "identity_links"
CUSTOMER_IDS = "customer_ids"
PROFILES = "profiles"
CUSTOMER_EVENTS = "customer_events"

# -- identity resolution (customers/identity.py owns this block) ----------------------------
IDENTITIES_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
    ]
)
"""One row per stored message: the customer it belongs to. `record_id` is the mapped record id
for a record imported with a column mapping (a CRM row), the message id otherwise."""

IDENTITY_LINKS_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("id_type", pa.string()),
        pa.field("id_value", pa.string()),
        pa.field("records", pa.int64()),
        pa.field("left_source", pa.string()),
        pa.field("left_record_id", pa.string()),
        pa.field("right_source", pa.string()),
        pa.field("right_record_id", pa.string()),
        pa.field("match_weight", pa.float64()),
        pa.field("match_probability", pa.float64()),
        pa.field("reason", pa.string()),
    ]
)
"""Why each customer's records belong together: `kind` "identifier" (an identifier shared by
`records` records), "match" (a probabilistic match of two records with its weight and
probability), or "ignored" (an identifier or a match not used to merge; `reason` says why:
"shared" (seen with too many user ids), "not merging" (its type never merges), "limit" (it would
have broken a per-profile limit))."""

CUSTOMER_IDS_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("created_at", UTC_MICROS, nullable=False),
        pa.field("run", pa.int64(), nullable=False),
        pa.field("merged_into", pa.string()),
        pa.field("merged_at", UTC_MICROS),
    ]
)
"""Every customer id ever issued: when, by which resolution run, and (once its cluster merged
into an older one) which id it was merged into. Ids are never reused."""

# -- behaviour (customers/behaviour.py owns this block) --------------------------------------
CUSTOMER_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("event", pa.string()),
        pa.field("name", pa.string()),
        pa.field("properties", pa.string()),
        pa.field("timestamp", UTC_MICROS, nullable=False),
        pa.field("ingested_at", UTC_MICROS, nullable=False),
    ]
)
"""Every resolved message once (its first ingested copy) with the customer it belongs to:
`events` joined to `identities`, written whole with the profiles (sorted by event name, so a query
for some events reads only their row groups, then by customer). Segments and campaign
metrics read behaviour here instead of joining 20 million events to 20 million identities on
every query."""

# -- profiles (customers/profiles.py owns this block) ----------------------------------------
PROFILES_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("email", pa.string()),
        pa.field("phone", pa.string()),
        pa.field("first_name", pa.string()),
        pa.field("last_name", pa.string()),
        pa.field("traits", pa.string()),
        pa.field("trait_sources", pa.string()),
        pa.field("identifiers", pa.string()),
        # "element": the item name Delta gives list columns (a round trip keeps the schema)
        pa.field("sources", pa.list_(pa.field("element", pa.string()))),
        pa.field("records", pa.int64(), nullable=False),
        pa.field("events", pa.int64(), nullable=False),
        pa.field("events_by_type", pa.string()),
        pa.field("events_by_channel", pa.string()),
        pa.field("first_seen", UTC_MICROS),
        pa.field("last_seen", UTC_MICROS),
        pa.field("orders", pa.int64(), nullable=False),
        pa.field("revenue", pa.float64(), nullable=False),
        pa.field("first_order_at", UTC_MICROS),
        pa.field("last_order_at", UTC_MICROS),
        pa.field("recency_days", pa.int64()),
        pa.field("frequency", pa.int64(), nullable=False),
        pa.field("monetary", pa.float64(), nullable=False),
        pa.field("r_score", pa.int64()),
        pa.field("f_score", pa.int64()),
        pa.field("m_score", pa.int64()),
        pa.field("rfm", pa.string()),
        pa.field("marketing_opt_in", pa.bool_()),
        pa.field("consent", pa.string()),
        pa.field("updated_at", UTC_MICROS, nullable=False),
    ]
)
"""One row per customer: golden traits (typed for the common ones, all of them as JSON text in
`traits`, with the source each came from in `trait_sources`), every identifier (JSON: type ->
values), behaviour (events by type and by channel, first and last seen), orders and revenue, RFM
(recency in days, frequency, monetary value, 1-5 scores) and consent."""

# -- segments (customers/segments.py owns this block) ----------------------------------------
SEGMENT_MEMBERSHIPS = "segment_memberships"
SEGMENT_MEMBERSHIPS_SCHEMA = pa.schema(
    [
        pa.field("segment", pa.string(), nullable=False),
        pa.field("evaluation", pa.int64(), nullable=False),
        pa.field("evaluated_at", UTC_MICROS, nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
    ]
)
"""One row per customer in a segment at one evaluation (appended, one commit per evaluation), so a
segment's membership at any past evaluation can be read back and its size shown over time."""

# -- campaigns (campaigns/ owns this block) ------------------------------------------------
ASSIGNMENTS = "assignments"
ASSIGNMENTS_SCHEMA = pa.schema(
    [
        pa.field("campaign", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("arm", pa.string(), nullable=False),
        pa.field("assigned_at", UTC_MICROS, nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("record_id", pa.string()),
    ]
)
"""A customer's arm in a campaign. `origin` is "hash" (Tandem's deterministic assignment) or
"import" (randomised elsewhere, `tandem campaign import-assignments`; `record_id` is the id the
file gave when it was not a customer id)."""

EXPOSURES = "exposures"
EXPOSURES_SCHEMA = pa.schema(
    [
        pa.field("campaign", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("arm", pa.string()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("exposed_at", UTC_MICROS, nullable=False),
        pa.field("source", pa.string()),
        pa.field("message_id", pa.string()),
    ]
)
"""A recorded exposure of a customer to a campaign (`kind`: sent, opened, clicked, ...), with the
event it came from (`source`, `message_id`) when it came from the events table."""

PARTITIONS: dict[str, list[str]] = {
    EVENTS: ["source"],
    QUARANTINE: ["source"],
    IDENTITIES: [],
    IDENTITY_LINKS: [],
    CUSTOMER_IDS: [],
    PROFILES: [],
    CUSTOMER_EVENTS: [],
    SEGMENT_MEMBERSHIPS: ["segment"],
    ASSIGNMENTS: ["campaign"],
    EXPOSURES: ["campaign"],
}
SCHEMAS = {
    EVENTS: EVENTS_SCHEMA,
    QUARANTINE: QUARANTINE_SCHEMA,
    IDENTITIES: IDENTITIES_SCHEMA,
    IDENTITY_LINKS: IDENTITY_LINKS_SCHEMA,
    CUSTOMER_IDS: CUSTOMER_IDS_SCHEMA,
    PROFILES: PROFILES_SCHEMA,
    CUSTOMER_EVENTS: CUSTOMER_EVENTS_SCHEMA,
    SEGMENT_MEMBERSHIPS: SEGMENT_MEMBERSHIPS_SCHEMA,
    ASSIGNMENTS: ASSIGNMENTS_SCHEMA,
    EXPOSURES: EXPOSURES_SCHEMA,
}
