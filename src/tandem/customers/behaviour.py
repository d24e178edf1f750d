"""Behaviour: every stored event with the customer it belongs to.

`customer_events(lake)` is the one way segments and campaigns read behaviour: each resolved
message once, with its customer. It reads the derived `customer_events` table, which
`derive_customer_events` writes whole (one overwrite commit) whenever profiles are built, that is
at the end of every `tandem resolve`. So behaviour is what the last resolution saw, as profiles
are: a message stored after it has no customer yet (no identity) and is not included, and a copy
of a message stored after it changes nothing until the next resolution.

Why a derived table: events carry no customer id; the customer of a message is in `identities`
(exactly one row per (source, message_id)). Joining 20 million events to 20 million identities on
two text columns was most of the time of every campaign result and segment evaluation (a campaign
over 10 million customers: 11 s of hand-written DuckDB, against 10 s allowed). Resolution joins
them once; every later query reads a table that already has the customer id, sorted by event name
(a query for some events reads only their row groups) and then by customer (a customer's events
side by side compress well; sorted by time instead, the table was a third larger and slower to
read).

Each message once: a message stored twice (two processes committing the same message id at the
same instant, before `tandem lake compact` removes the copy) counts once, its first ingested copy,
as `Lake.events()` decides; an exact copy (the same ingestion time) counts once too.

`customer_events` joins the tables itself instead (the same rows, more slowly) when the table
cannot be trusted to match `identities`:
- it was never written (version 0): a lake resolved before this table existed;
- identities were rewritten since it was (`tandem.lake.derived.is_stale`): writing identities
  marks it stale before the commit and writing it clears the mark, so a resolution that fails
  between the two (or identities written by hand) never leaves segments and campaigns reading
  behaviour that disagrees with the customers. `tandem forget` deletes from both tables.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tandem.lake.derived import is_stale, replace_table
from tandem.lake.schema import CUSTOMER_EVENTS, CUSTOMER_EVENTS_SCHEMA, EVENTS, IDENTITIES

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake

EVENT_COLUMNS = tuple(
    f.name for f in CUSTOMER_EVENTS_SCHEMA if f.name not in ("customer_id", "record_id")
)
"""The events columns `customer_events` carries (besides customer_id and record_id)."""
BATCH_ROWS = 1_000_000
"""Rows per batch streamed from the engine to the Delta writer."""


def customer_events(lake: Lake) -> ir.Table:
    """Every resolved event (one row per message: the first ingested copy) with its
    `customer_id` and `record_id`: the `customer_events` table, or, when it was never written,
    the same rows computed from `events` ⋈ `identities`."""
    if lake.table(CUSTOMER_EVENTS).version() > 0 and not is_stale(lake, CUSTOMER_EVENTS):
        return lake.raw(CUSTOMER_EVENTS)
    return joined_events(lake)


def joined_events(lake: Lake) -> ir.Table:
    """`events` ⋈ `identities` on (source, message_id), each message once (the first ingested
    copy, as `Lake.events()` keeps), in the columns of the `customer_events` table.

    The messages stored more than once are found first (one GROUP BY over two columns; there are
    usually none, at most a handful); only their copies are ranked by a window, so the whole table
    is never sorted, and an exact copy (the same ingestion time) counts once too."""
    import ibis

    events = lake.raw(EVENTS)
    counts = events.group_by([events.source, events.message_id]).aggregate(_copies=events.count())
    twice = counts.filter(counts._copies > 1).select(_s=counts.source, _m=counts.message_id)
    on = [events.source == twice._s, events.message_id == twice._m]
    copies = events.semi_join(twice, on)
    window = ibis.window(group_by=[copies.source, copies.message_id], order_by=[copies.ingested_at])
    ranked = copies.mutate(_copy=ibis.row_number().over(window))
    first = ranked.filter(ranked._copy == 0).drop("_copy")
    once = events.anti_join(twice, on).union(first)
    identities = lake.raw(IDENTITIES)
    return once.join(
        identities,
        [once.source == identities.source, once.message_id == identities.message_id],
    ).select(
        identities.customer_id,
        identities.record_id,
        *(once[c] for c in EVENT_COLUMNS),
    )


def derive_customer_events(lake: Lake) -> tuple[int, float]:
    """Rewrite the `customer_events` table from `events` ⋈ `identities` (one overwrite commit),
    sorted by event name, then customer. Returns (rows written, seconds). Streams from the
    engine to the Delta writer: the rows never sit in Python."""
    started = time.perf_counter()
    rows = joined_events(lake)
    rows = rows.order_by([rows.event, rows.customer_id, rows.timestamp])
    import ibis

    # the engine's own Arrow stream (Ibis's to_pyarrow_batches calls a DuckDB method that the
    # DuckDB in use no longer has)
    sql = str(ibis.to_sql(rows, dialect="duckdb"))
    reader = lake.con.con.sql(sql).to_arrow_reader(BATCH_ROWS)
    replace_table(lake, CUSTOMER_EVENTS, reader)
    count = lake.table(CUSTOMER_EVENTS).to_pyarrow_dataset().count_rows()  # from file footers
    return int(count), time.perf_counter() - started
