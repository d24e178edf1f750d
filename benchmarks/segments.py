"""What a segment evaluation costs on a large lake, against hand-written DuckDB SQL.

Issue 5's target: "Segment evaluation over 1,000,000 profiles and 50,000,000 events within 1.2x
of hand-written DuckDB SQL for the same definition".

Generates (seeded, in DuckDB, streamed into Delta: no Python loop over rows) a lake of P profiles
and E events (defaults 1,000,000 and 50,000,000; --profiles/--events to run smaller) with their
identities (one row per message), plus 0.01% of the messages stored a second time later (the
copies a race between two writers leaves; both sides must count each message once), and the
`customer_events` table derived from them (`tandem.customers.behaviour.derive_customer_events`,
the step every `tandem resolve` ends with; its time is in `generate_seconds.customer_events`).
Then times, on the same registered tables of the same DuckDB connection, for this definition:

    all:
      - {trait: orders, op: ">=", value: 1}
      - {trait: recency_days, op: ">", value: 30}
      - not: {event: Email Unsubscribed, in_last_days: 365}
      - any:
          - {event: Order Completed, at_least: 2, in_last_days: 180,
             where: [{property: revenue, op: ">", value: 50}]}
          - {trait: plan, op: in, value: [gold, platinum]}

- `hand_sql`: the SQL a DuckDB user would write for it over the tables Tandem reads (profiles,
  customer_events), fetching the member ids;
- `hand_sql_over_raw_tables` (one run): the same over events joined to identities, each message
  once (its first ingested copy), as evaluation had to before the derived table;
- `tandem_members`: Tandem's compiled Ibis expression for it, fetching the member ids;
- `tandem_evaluate`: `ws.segments.evaluate` whole: compile, run, append the members to
  `segment_memberships` (one Delta commit), record the evaluation.

Each is run once to warm up, then --runs times; the JSON has the median and best seconds, the
ratios to `hand_sql`, the member counts (all must agree), CPU seconds and the load average (the
machine may be shared: figures taken while others work are not final).

Usage: uv run python benchmarks/segments.py [--profiles P] [--events E] [--runs N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake

from tandem import Workspace
from tandem.customers.behaviour import derive_customer_events
from tandem.customers.segments import compile_members, parse_definition
from tandem.lake.schema import CUSTOMER_EVENTS, EVENTS, IDENTITIES, PROFILES, SCHEMAS

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
DEFINITION: dict[str, Any] = {
    "name": "lapsed-buyers",
    "owners": ["marketing"],
    "where": {
        "all": [
            {"trait": "orders", "op": ">=", "value": 1},
            {"trait": "recency_days", "op": ">", "value": 30},
            {"not": {"event": "Email Unsubscribed", "in_last_days": 365}},
            {
                "any": [
                    {
                        "event": "Order Completed",
                        "at_least": 2,
                        "in_last_days": 180,
                        "where": [{"property": "revenue", "op": ">", "value": 50}],
                    },
                    {"trait": "plan", "op": "in", "value": ["gold", "platinum"]},
                ]
            },
        ]
    },
}
EVENT_NAMES = (
    # (name, share in percent) of track events
    ("Product Viewed", 40),
    ("Page Scrolled", 15),
    ("Email Opened", 12),
    ("Product Added", 10),
    ("Order Completed", 8),
    ("Search", 8),
    ("Email Clicked", 5),
    ("Email Unsubscribed", 1),
    ("Review Written", 1),
)

HAND_SQL = """
WITH scoped AS (
    SELECT e.customer_id, e.event, e."timestamp", e.properties
    FROM lake_customer_events AS e
    WHERE e.type = 'track' AND e.event IN ('Email Unsubscribed', 'Order Completed')
      AND e."timestamp" <= $as_of AND e."timestamp" >= $as_of - INTERVAL 365 DAY
),
counts AS (
    SELECT customer_id,
           count(*) FILTER (WHERE event = 'Email Unsubscribed') AS unsubscribed,
           count(*) FILTER (WHERE event = 'Order Completed'
                              AND "timestamp" >= $as_of - INTERVAL 180 DAY
                              AND TRY_CAST(properties ->> '$.revenue' AS DOUBLE) > 50) AS orders
    FROM scoped
    GROUP BY customer_id
)
SELECT p.customer_id
FROM lake_profiles AS p
LEFT JOIN counts AS c ON c.customer_id = p.customer_id
WHERE p.orders >= 1 AND p.recency_days > 30
  AND coalesce(c.unsubscribed, 0) = 0
  AND (coalesce(c.orders, 0) >= 2 OR (p.traits ->> '$.plan') IN ('gold', 'platinum'))
"""
"""Over `customer_events`, the table Tandem reads (each message once, with its customer)."""

RAW_SQL = HAND_SQL.replace(
    """    SELECT e.customer_id, e.event, e."timestamp", e.properties
    FROM lake_customer_events AS e
    WHERE""",
    """    SELECT i.customer_id, e.event, e."timestamp", e.properties
    FROM lake_events AS e
    JOIN lake_identities AS i ON i.source = e.source AND i.message_id = e.message_id
    WHERE NOT EXISTS (
        SELECT 1 FROM lake_events AS c
        WHERE c.source = e.source AND c.message_id = e.message_id
          AND c.ingested_at < e.ingested_at
    ) AND""",
)
"""The same over the raw tables: events joined to identities, each message once (its first
ingested copy), as every evaluation had to do before the derived table."""
assert RAW_SQL != HAND_SQL


def _batches(con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema) -> pa.RecordBatchReader:
    reader = con.sql(sql).to_arrow_reader(1_000_000)
    assert reader is not None

    def cast() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [batch.column(f.name).cast(f.type) for f in schema], schema=schema
            )

    return pa.RecordBatchReader.from_batches(schema, cast())


def generate(ws: Workspace, profiles: int, events: int, seed: int) -> dict[str, float]:
    """Write profiles, events (+ copies) and identities straight into the lake's Delta tables."""
    lake = ws.lake
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    timings: dict[str, float] = {}
    names = [n for n, _ in EVENT_NAMES]
    bounds: list[int] = []
    total = 0
    for _, share in EVENT_NAMES:
        total += share
        bounds.append(total)
    case = " ".join(f"WHEN r_event < {b} THEN '{n}'" for n, b in zip(names, bounds, strict=True))
    started = time.perf_counter()
    profiles_sql = f"""
        SELECT printf('cus_%08d', i) AS customer_id,
               NULL AS email, NULL AS phone, NULL AS first_name, NULL AS last_name,
               '{{"plan":"'
                 || ['free', 'silver', 'gold', 'platinum'][(1 + hash(i, {seed}, 1) % 4)::BIGINT]
                 || '","city":"c' || (hash(i, {seed}, 2) % 500) || '"}}' AS traits,
               NULL AS trait_sources, NULL AS identifiers, ['web'] AS sources,
               1::BIGINT AS records, 10::BIGINT AS events,
               NULL AS events_by_type, NULL AS events_by_channel,
               NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
               (hash(i, {seed}, 3) % 6)::BIGINT AS orders,
               ((hash(i, {seed}, 4) % 100000) / 100.0)::DOUBLE AS revenue,
               NULL::TIMESTAMPTZ AS first_order_at, NULL::TIMESTAMPTZ AS last_order_at,
               CASE WHEN hash(i, {seed}, 3) % 6 > 0 THEN (hash(i, {seed}, 5) % 400)::BIGINT
               END AS recency_days,
               (hash(i, {seed}, 3) % 6)::BIGINT AS frequency,
               ((hash(i, {seed}, 4) % 100000) / 100.0)::DOUBLE AS monetary,
               NULL::BIGINT AS r_score, NULL::BIGINT AS f_score, NULL::BIGINT AS m_score,
               NULL AS rfm, NULL::BOOLEAN AS marketing_opt_in, NULL AS consent,
               TIMESTAMPTZ '2026-11-01' AS updated_at
        FROM range({profiles}) t(i)
    """
    write_deltalake(
        lake.table(PROFILES), _batches(con, profiles_sql, SCHEMAS[PROFILES]), mode="overwrite"
    )
    timings["profiles"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    messages = f"""
        SELECT i, ['web', 'app', 'email'][(1 + i % 3)::BIGINT] AS source,
               printf('m%010d', i) AS message_id,
               printf('cus_%08d', hash(i, {seed}, 10) % {profiles}) AS customer_id,
               (hash(i, {seed}, 11) % 100)::INT AS r_type,
               (hash(i, {seed}, 12) % 100)::INT AS r_event,
               TIMESTAMPTZ '{AS_OF.isoformat()}' - (hash(i, {seed}, 13) % (730 * 86400))
                 * INTERVAL 1 SECOND AS ts
        FROM range({events}) t(i)
    """
    events_sql = f"""
        SELECT source, message_id,
               CASE WHEN r_type < 90 THEN 'track' WHEN r_type < 97 THEN 'page' ELSE 'identify'
               END AS type,
               customer_id AS user_id, NULL AS anonymous_id,
               CASE WHEN r_type < 90 THEN CASE {case} END END AS event,
               NULL AS name, NULL AS group_id, NULL AS previous_id, NULL AS traits,
               CASE WHEN r_type < 90 THEN '{{"revenue":' || (hash(i, {seed}, 14) % 20000) / 100.0
                    || ',"sku":"s' || (hash(i, {seed}, 15) % 5000) || '"}}' END AS properties,
               NULL AS context, ts AS "timestamp", ts AS original_timestamp, ts AS sent_at,
               ts AS received_at, TIMESTAMPTZ '2026-11-01 12:00:00' AS ingested_at
        FROM ({messages})
    """
    write_deltalake(
        lake.table(EVENTS),
        _batches(con, events_sql, SCHEMAS[EVENTS]),
        mode="append",
        partition_by=["source"],
    )
    # copies of 0.01% of the messages, stored a day later (a race between two writers)
    copies_sql = f"""
        SELECT * REPLACE (ingested_at + INTERVAL 1 DAY AS ingested_at)
        FROM ({events_sql}) WHERE hash(message_id, {seed}, 20) % 10000 = 0
    """
    write_deltalake(
        lake.table(EVENTS),
        _batches(con, copies_sql, SCHEMAS[EVENTS]),
        mode="append",
        partition_by=["source"],
    )
    timings["events"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    identities_sql = f"""
        SELECT source, message_id, message_id AS record_id, customer_id FROM ({messages})
    """
    write_deltalake(
        lake.table(IDENTITIES),
        _batches(con, identities_sql, SCHEMAS[IDENTITIES]),
        mode="overwrite",
    )
    timings["identities"] = round(time.perf_counter() - started, 2)
    con.close()
    # the step every `tandem resolve` ends with (paid once per resolution, not per evaluation)
    _, seconds = derive_customer_events(ws.lake)
    timings["customer_events"] = round(seconds, 2)
    return timings


def measure(run: Callable[[], int], runs: int) -> dict[str, Any]:
    """Warm up once, then `runs` timed runs: median and best seconds, CPU, the rows."""
    rows = run()
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        got = run()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert got == rows, (got, rows)
    return {
        "median_seconds": round(statistics.median(walls), 3),
        "best_seconds": round(min(walls), 3),
        "median_cpu_seconds": round(statistics.median(cpus), 3),
        "members": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="Work folder (default: a temp one)")
    args = parser.parse_args()

    out: dict[str, Any] = {
        "profiles": args.profiles,
        "events": args.events,
        "runs": args.runs,
        "as_of": AS_OF.isoformat(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        ws = Workspace.init(Path(tmp) / "ws", company="Benchmark Retail")
        try:
            out["generate_seconds"] = generate(ws, args.profiles, args.events, args.seed)
            lake = ws.lake
            parsed = parse_definition(DEFINITION)
            ws.segments.create(DEFINITION, evaluate=False)

            def tandem_members() -> int:
                table = compile_members(ws, parsed, as_of=AS_OF).to_pyarrow()
                return int(table.num_rows)

            def hand(query: str) -> Callable[[], int]:
                sql = query.replace("$as_of", f"TIMESTAMPTZ '{AS_OF.isoformat()}'")

                def run() -> int:
                    for name in (EVENTS, IDENTITIES, PROFILES, CUSTOMER_EVENTS):
                        lake.raw(name)  # the same registered, refreshed tables as Tandem reads
                    table = lake.con.con.sql(sql).to_arrow_table()
                    rows: int = table.num_rows
                    return rows

                return run

            def tandem_evaluate() -> int:
                return ws.segments.evaluate(parsed.name, as_of=AS_OF).size

            out["hand_sql"] = measure(hand(HAND_SQL), args.runs)
            out["hand_sql_over_raw_tables"] = measure(hand(RAW_SQL), 1)
            out["tandem_members"] = measure(tandem_members, args.runs)
            out["tandem_evaluate"] = measure(tandem_evaluate, args.runs)
            base = out["hand_sql"]["median_seconds"]
            out["ratio_members_to_hand_sql"] = round(
                out["tandem_members"]["median_seconds"] / base, 3
            )
            out["ratio_evaluate_to_hand_sql"] = round(
                out["tandem_evaluate"]["median_seconds"] / base, 3
            )
            counts = {
                out[k]["members"]
                for k in (
                    "hand_sql",
                    "hand_sql_over_raw_tables",
                    "tandem_members",
                    "tandem_evaluate",
                )
            }
            out["members_agree"] = len(counts) == 1
            out["target"] = "tandem within 1.2x of hand_sql"
        finally:
            ws.close()
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
