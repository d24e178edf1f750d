"""What a campaign's results cost: `ws.campaigns.results` against the bare DuckDB GROUP BY that
computes the same sums.

Target (issue 5): results for a campaign over 10,000,000 customers with 3 metrics in under 10 s
on 2 cores, and within 1.5x the time of the bare DuckDB GROUP BY that computes the same sums.

Generates (seeded, in DuckDB, no Python loop over rows) a workspace whose lake holds:
- `assignments`: N customers of campaign `bench`, 50/50 control/offer, assigned at T;
- `events` (source `web`): about `--events-per-customer` track events per customer, 80% `Order
  Completed` with a `revenue` property, the rest `Product Viewed`, spread over T - 30 days to
  T + 30 days (offer customers order a little more often);
- `identities`: the customer of every event;
- `profiles`: one bare row per customer (the campaign's target segment needs profiles);
- `customer_events`: derived from events and identities by
  `tandem.customers.behaviour.derive_customer_events`, the step every `tandem resolve` ends with
  (its time is reported as `derive_seconds`: it is paid once per resolution, not per query).
The campaign has 3 metrics: conversion (Order Completed in 14 days), count (with a 28-day
pre-period covariate, CUPED) and sum of revenue.

Times, each the best of `--repeat` runs after one warm-up:
- `tandem`: `ws.campaigns.results("bench")`, as `tandem campaign results` runs it (the engine
  computes every metric's per-arm sums in one pass; SRM and statistics in Python);
- `bare`: hand-written DuckDB SQL over the same Delta tables Tandem reads (their Parquet files
  as Arrow datasets, as the lake reads them): assignments left-joined to customer_events, one
  GROUP BY customer, one GROUP BY arm, the same sums. It skips what Tandem adds (Ibis compiling the
  query, reading the definition and the exposures for the report, the statistics);
- `bare_over_raw_tables` (one run): the same SQL joining `events` to `identities` itself, as
  every query had to before the derived table (no deduplication of copies, so it is the cheaper
  form of that join).
The JSON says whether Tandem and `bare` found the same sums. The machine may be shared:
`load_average` before and after is reported; compare `tandem` with `bare`, measured at the same
moment.

Prints JSON. Usage: uv run python benchmarks/campaign_results.py [--customers N]
[--events-per-customer E] [--seed S] [--repeat R] [--dir DIR]
(with --dir, a workspace the script made there before is reused as it is; --customers must
then be the same)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake

from tandem import Workspace
from tandem.customers.behaviour import derive_customer_events
from tandem.lake.schema import (
    ASSIGNMENTS,
    ASSIGNMENTS_SCHEMA,
    CUSTOMER_EVENTS,
    EVENTS,
    EVENTS_SCHEMA,
    IDENTITIES,
    IDENTITIES_SCHEMA,
    PROFILES,
    PROFILES_SCHEMA,
)

T = datetime(2026, 3, 1, tzinfo=UTC)
CAMPAIGN = "bench"
BATCH = 1_000_000


def _write(ws: Workspace, name: str, schema: pa.Schema, reader: duckdb.DuckDBPyRelation) -> None:
    batches = reader.to_arrow_reader(BATCH)

    def cast() -> Any:
        for batch in batches:
            yield pa.Table.from_batches([batch]).select(schema.names).cast(schema).to_batches()[0]

    data = pa.RecordBatchReader.from_batches(schema, cast())
    write_deltalake(ws.lake.table(name), data, mode="append")


def generate(ws: Workspace, customers: int, per_customer: int, seed: int) -> dict[str, int]:
    """Write the assignments, events and identities tables; returns their row counts."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    params = {"n": customers, "seed": seed, "t": T, "per": per_customer}
    assignments = con.sql(
        """
        SELECT 'bench' AS campaign, 'cus_' || i AS customer_id,
               CASE WHEN hash(i, $seed) % 2 = 0 THEN 'control' ELSE 'offer' END AS arm,
               $t::TIMESTAMPTZ AS assigned_at, 'hash' AS origin, NULL::VARCHAR AS record_id
        FROM range($n) r(i)
        """,
        params={"n": customers, "seed": seed, "t": T},
    )
    _write(ws, ASSIGNMENTS, ASSIGNMENTS_SCHEMA, assignments)
    events_sql = """
        SELECT j, j // $per AS c,
               hash(j // $per, $seed) % 2 = 1 AS offer,
               (hash(j, $seed, 1) % 100)::INT AS r_event,
               (hash(j, $seed, 2) % (60 * 24))::INT AS r_minutes,
               (hash(j, $seed, 3) % 200)::INT AS revenue
        FROM range($n * $per) r(j)
    """
    events = con.sql(
        f"""
        SELECT 'web' AS source, 'm' || j AS message_id, 'track' AS type,
               'u' || c AS user_id, NULL::VARCHAR AS anonymous_id,
               CASE WHEN r_event < CASE WHEN offer THEN 85 ELSE 80 END
                    THEN 'Order Completed' ELSE 'Product Viewed' END AS event,
               NULL::VARCHAR AS name, NULL::VARCHAR AS group_id, NULL::VARCHAR AS previous_id,
               NULL::VARCHAR AS traits,
               '{{"revenue": ' || revenue || '}}' AS properties, NULL::VARCHAR AS context,
               $t::TIMESTAMPTZ + to_minutes(r_minutes * 60 - 30 * 24 * 60) AS timestamp,
               NULL::TIMESTAMPTZ AS original_timestamp, NULL::TIMESTAMPTZ AS sent_at,
               $t::TIMESTAMPTZ AS received_at, $t::TIMESTAMPTZ AS ingested_at
        FROM ({events_sql})
        """,
        params=params,
    )
    _write(ws, EVENTS, EVENTS_SCHEMA, events)
    identities = con.sql(
        """
        SELECT 'web' AS source, 'm' || j AS message_id, 'm' || j AS record_id,
               'cus_' || (j // $per) AS customer_id
        FROM range($n * $per) r(j)
        """,
        params={"n": customers, "per": per_customer},
    )
    _write(ws, IDENTITIES, IDENTITIES_SCHEMA, identities)
    # minimal profiles (ids and zero counts), so the target segment can be defined
    columns = ", ".join(
        f"'cus_' || i AS {f.name}"
        if f.name == "customer_id"
        else f"$t::TIMESTAMPTZ AS {f.name}"
        if f.name == "updated_at"
        else f"0 AS {f.name}"
        if not f.nullable
        else f"NULL AS {f.name}"
        for f in PROFILES_SCHEMA
    )
    profiles = con.sql(f"SELECT {columns} FROM range($n) r(i)", params={"n": customers, "t": T})
    _write(ws, PROFILES, PROFILES_SCHEMA, profiles)
    con.close()
    return {"assignments": customers, "events": customers * per_customer}


DEFINITION = {
    "name": CAMPAIGN,
    "channel": "email",
    "owners": ["marketing", "it"],
    "segment": "everyone",
    "start": "2026-03-01T00:00:00Z",
    "end": "2026-03-31T00:00:00Z",
    "arms": [{"name": "control", "share": 0.5, "control": True}, {"name": "offer", "share": 0.5}],
    "metrics": [
        {"name": "purchased", "kind": "conversion", "event": "Order Completed"},
        {
            "name": "orders",
            "kind": "count",
            "event": "Order Completed",
            "covariate": {"pre_period_days": 28},
        },
        {"name": "revenue", "kind": "sum", "event": "Order Completed", "property": "revenue"},
    ],
}

BARE = """
WITH a AS (
    SELECT customer_id, arm, assigned_at FROM assignments WHERE campaign = 'bench'
), e AS (
    SELECT e.customer_id, e.timestamp, e.properties
    FROM customer_events e
    WHERE e.event = 'Order Completed'
), per AS (
    SELECT a.customer_id, any_value(a.arm) AS arm,
           count(e.timestamp) FILTER (WHERE e.timestamp >= a.assigned_at
                                      AND e.timestamp < a.assigned_at + INTERVAL 14 DAY) AS orders,
           count(e.timestamp) FILTER (WHERE e.timestamp >= a.assigned_at - INTERVAL 28 DAY
                                      AND e.timestamp < a.assigned_at) AS pre,
           sum(coalesce(TRY_CAST(json_extract_string(e.properties, '$.revenue') AS DOUBLE), 0))
               FILTER (WHERE e.timestamp >= a.assigned_at
                       AND e.timestamp < a.assigned_at + INTERVAL 14 DAY) AS revenue
    FROM a LEFT JOIN e ON e.customer_id = a.customer_id
    GROUP BY a.customer_id
), v AS (
    SELECT arm,
           CASE WHEN orders > 0 THEN 1.0 ELSE 0.0 END AS conv,
           orders::DOUBLE AS orders,
           pre::DOUBLE AS pre,
           coalesce(revenue, 0)::DOUBLE AS revenue
    FROM per
)
SELECT arm, count(*) AS n,
       sum(conv) AS s0, sum(conv * conv) AS ss0,
       sum(orders) AS s1, sum(orders * orders) AS ss1,
       sum(pre) AS cs1, sum(pre * pre) AS css1, sum(orders * pre) AS x1,
       sum(revenue) AS s2, sum(revenue * revenue) AS ss2
FROM v GROUP BY arm ORDER BY arm
"""
"""Every assigned customer with their orders (a left join: none counts 0), one GROUP BY
customer, one GROUP BY arm."""


RAW = BARE.replace(
    "FROM customer_events e",
    "FROM events e JOIN identities i ON i.source = e.source AND i.message_id = e.message_id",
).replace("SELECT e.customer_id", "SELECT i.customer_id")
"""The bare query joining events to identities itself (before the derived table)."""
assert RAW != BARE


def bare(ws: Workspace, sql: str = BARE) -> tuple[float, list[dict[str, Any]]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in (ASSIGNMENTS, EVENTS, IDENTITIES, CUSTOMER_EVENTS):
        con.register(name, ws.lake.table(name).to_pyarrow_dataset())
    started = time.perf_counter()
    rows = con.sql(sql).to_arrow_table().to_pylist()
    seconds = time.perf_counter() - started
    con.close()
    return seconds, rows


def tandem(ws: Workspace) -> tuple[float, Any]:
    started = time.perf_counter()
    results = ws.campaigns.results(CAMPAIGN)
    return time.perf_counter() - started, results


def _same(results: Any, rows: list[dict[str, Any]]) -> bool:
    """Whether Tandem's per-arm means match the bare query's sums."""
    for row in rows:
        for name, key in (("purchased", "s0"), ("orders", "s1"), ("revenue", "s2")):
            arm = next(a for a in results.metric(name).arms if a.arm == row["arm"])
            if arm.n != row["n"] or not math.isclose(arm.mean, row[key] / row["n"], rel_tol=1e-9):
                return False
    return True


def _same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Whether two bare queries found the same sums (floating sums to 1e-9 relative)."""
    return len(a) == len(b) and all(
        x.keys() == y.keys()
        and all(
            x[k] == y[k] if isinstance(x[k], str) else math.isclose(x[k], y[k], rel_tol=1e-9)
            for k in x
        )
        for x, y in zip(a, b, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--events-per-customer", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="keep the workspace here")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp) / "ws"
        reuse = (root / "tandem.toml").exists()
        ws = Workspace.open(root) if reuse else Workspace.init(root, company="Bench Retail")
        try:
            started = time.perf_counter()
            if reuse:  # a workspace this script made before (--dir): its data as it is
                rows = {"events": ws.lake.table(EVENTS).to_pyarrow_dataset().count_rows()}
            else:
                rows = generate(ws, args.customers, args.events_per_customer, args.seed)
                ws.segments.create(
                    {
                        "name": "everyone",
                        "owners": ["marketing"],
                        "where": {"trait": "orders", "op": ">=", "value": 0},
                    }
                )
                ws.campaigns.create(DEFINITION)
            generated = time.perf_counter() - started
            derived, derive_seconds = None, None
            if ws.lake.table(CUSTOMER_EVENTS).version() == 0:
                derived, derive_seconds = derive_customer_events(ws.lake)
            tandem(ws)  # warm-up: file metadata, the first compile
            bare(ws)
            tandem_runs = [tandem(ws) for _ in range(args.repeat)]
            bare_runs = [bare(ws) for _ in range(args.repeat)]
            raw_seconds, raw_rows = bare(ws, RAW)
            best_tandem = min(s for s, _ in tandem_runs)
            best_bare = min(s for s, _ in bare_runs)
            same = _same(tandem_runs[0][1], bare_runs[0][1])
            same_raw = _same_rows(raw_rows, bare_runs[0][1])
        finally:
            ws.close()
    print(
        json.dumps(
            {
                "benchmark": "campaign_results",
                "customers": args.customers,
                "events": rows["events"],
                "metrics": 3,
                "generate_seconds": round(generated, 2),
                "derive_seconds": None if derive_seconds is None else round(derive_seconds, 2),
                "derived_rows": derived,
                "tandem_seconds": round(best_tandem, 3),
                "bare_duckdb_seconds": round(best_bare, 3),
                "ratio": round(best_tandem / best_bare, 3),
                "bare_over_raw_tables_seconds": round(raw_seconds, 3),
                "target": {"seconds": 10.0, "ratio": 1.5},
                "same_sums": same,
                "same_sums_over_raw_tables": same_raw,
                "runs": {
                    "tandem": [round(s, 3) for s, _ in tandem_runs],
                    "bare": [round(s, 3) for s, _ in bare_runs],
                },
                "cpu_count": os.cpu_count(),
                "load_average": {"before": load_before, "after": os.getloadavg()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
