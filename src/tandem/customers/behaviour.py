"""Behaviour: every stored event with the customer it belongs to.

`customer_events(lake)` is the one way segments and campaigns read behaviour: the `events` table
joined to `identities` (exactly one row per (source, message_id): the customer of every message),
each message once. A message stored twice (two processes committing the same message id at the
same instant, before `tandem lake compact` removes the copy) counts once: its first ingested copy,
as `Lake.events()` decides.

Cost: `Lake.events()` deduplicates with a window over (source, message_id) of the whole table,
which sorts every event before any filter applies (filters cannot move below a window that is not
partitioned by them). Here a copy is dropped by an anti-join instead: "no copy of the same message
was ingested earlier". A filter applied to the result (an event name, a time window) is pushed by
DuckDB below the anti-join, so the join's hash table holds only the matching events and the whole
table is scanned once more for three narrow columns (source, message_id, ingested_at): about the
cost of the query without deduplication, where the window made it several times slower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.lake.schema import EVENTS, IDENTITIES

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake

EVENT_COLUMNS = (
    "source",
    "message_id",
    "type",
    "user_id",
    "anonymous_id",
    "event",
    "name",
    "traits",
    "properties",
    "context",
    "timestamp",
    "received_at",
    "ingested_at",
)
"""The events columns `customer_events` carries (besides customer_id and record_id)."""


def customer_events(lake: Lake) -> ir.Table:
    """Every stored event (one row per message: the first ingested copy) with its `customer_id`
    and `record_id` (events ⋈ identities on source, message_id). Messages stored after the last
    `tandem resolve` have no identity yet and are not included."""
    events = lake.raw(EVENTS)
    identities = lake.raw(IDENTITIES)
    joined = events.join(
        identities,
        [events.source == identities.source, events.message_id == identities.message_id],
    ).select(
        identities.customer_id,
        identities.record_id,
        *(events[c] for c in EVENT_COLUMNS),
    )
    copies = events.select(
        _source=events.source, _message_id=events.message_id, _ingested_at=events.ingested_at
    )
    return joined.anti_join(
        copies,
        [
            joined.source == copies._source,
            joined.message_id == copies._message_id,
            copies._ingested_at < joined.ingested_at,
        ],
    )
