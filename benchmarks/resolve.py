"""What identity resolution costs on a large lake.

Generates (seeded, in DuckDB, no Python loop over rows) a lake of N messages (default
1,000,000) carrying about 3 identifiers each, with realistic overlap: N/4 people, each with one
to three browsers or app installs (anonymousId; app installs also send a device id), logged in
on 75% of messages (userId), an email on 45% of messages (one or two addresses per person), a
phone on 15% (80% in E.164, 20% written nationally), 200 shop tablets each used by 50 people
and 1,000 family emails, each the only address of 4 people (over-merge traps the shared rule
must catch).
The messages are written straight into the `events` Delta table (ingest has its own benchmark).

Times, on that lake:
- a yardstick: textbook label propagation in bare DuckDB over the same graph, and Tandem's own
  components over the same edges, measured at the same moment (the machine is shared: compare
  figures with the yardstick);
- deterministic resolution: identifiers (extract + normalise) -> graph + components -> stable
  ids, on the lake's DuckDB connection (target < 10 s for 1,000,000 messages);
- the whole `resolve` (with probabilistic matching as configured and profiles), as
  `tandem resolve` runs it (target < 30 s);
- a second `resolve` on the same lake (every cluster continues its id).

The machine is shared: besides wall-clock seconds the JSON has the process's CPU seconds (all
threads), and `load_average` before and after; on an idle 2-core machine the wall-clock time of
a stage lies between its CPU seconds / 2 and its CPU seconds.

Prints JSON. Usage: uv run python benchmarks/resolve.py [--records N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
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
from tandem.customers import identifiers, identity
from tandem.customers.evaluation import pairwise_scores
from tandem.customers.resolve import resolve
from tandem.lake.schema import EVENTS, EVENTS_SCHEMA

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def generate(n: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """(events, truth: key = message id, cluster = person) for n messages."""
    people = max(n // 4, 10)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        """
        CREATE TABLE m AS
        SELECT i, (hash(i, $seed, 1) % $people)::BIGINT AS person,
               (hash(i, $seed, 2) % 100)::INT AS r_user,
               (hash(i, $seed, 3) % 100)::INT AS r_email,
               (hash(i, $seed, 4) % 100)::INT AS r_phone,
               (hash(i, $seed, 5) % 100)::INT AS r_app,
               (hash(i, $seed, 6) % 3)::INT AS r_dev,
               (hash(i, $seed, 7) % 2)::INT AS r_second_email,
               (hash(i, $seed, 8) % 100)::INT AS r_tablet
        FROM range($n) t(i)
        """,
        {"seed": seed, "people": people, "n": n},
    )
    con.execute(
        """
        CREATE TABLE p AS
        SELECT person, 1 + (hash(person, $seed, 10) % 3)::INT AS devices,
               (hash(person, $seed, 11) % 100)::INT AS r_two_emails,
               (hash(person, $seed, 12) % 100)::INT AS r_national,
               CASE WHEN person < 200 * 50 THEN person % 200 END AS tablet,
               CASE WHEN person >= 200 * 50 AND person < 200 * 50 + 4000
                    THEN (person - 200 * 50) // 4 END AS family
        FROM range($people) t(person)
        """,
        {"seed": seed, "people": people},
    )
    events = con.sql(
        """
        WITH x AS (
            SELECT m.*, p.devices, p.r_two_emails, p.r_national, p.tablet, p.family,
                   m.r_dev % p.devices AS dev,
                   p.tablet IS NOT NULL AND m.r_tablet < 30 AS on_tablet
            FROM m JOIN p USING (person)
        )
        SELECT
            CASE WHEN r_app < 40 OR on_tablet THEN 'app' ELSE 'web' END AS source,
            'msg-' || i AS message_id,
            CASE WHEN i % 20 = 0 THEN 'identify' ELSE 'track' END AS type,
            CASE WHEN r_user < 75 OR on_tablet THEN 'user-' || person END AS user_id,
            CASE WHEN on_tablet THEN 'tablet-install-' || tablet
                 ELSE 'anon-' || person || '-' || dev END AS anonymous_id,
            CASE WHEN i % 20 = 0 THEN NULL ELSE 'Product Viewed' END AS event,
            CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS group_id,
            CAST(NULL AS VARCHAR) AS previous_id,
            CAST(NULL AS VARCHAR) AS traits,
            '{"price": ' || (i % 50) || '}' AS properties,
            json_object(
                'traits', json_object(
                    'email', CASE WHEN r_email < 45 THEN
                        CASE WHEN family IS NOT NULL
                             THEN 'family' || family || '@home.example'
                             WHEN r_two_emails < 30 AND r_second_email = 0
                             THEN 'Person.' || person || '@Work.example '
                             ELSE 'person' || person || '@mail.example' END END,
                    'phone', CASE WHEN r_phone < 15 THEN
                        CASE WHEN r_national < 20
                             THEN '07' || lpad(((person * 7919) % 1000000000)::VARCHAR, 9, '0')
                             ELSE '+447' || lpad(((person * 7919) % 1000000000)::VARCHAR, 9, '0')
                        END END),
                'device', CASE WHEN on_tablet THEN json_object('id', 'TABLET-' || tablet)
                               WHEN r_app < 40
                               THEN json_object('id', 'dev-' || person || '-' || dev) END
            )::VARCHAR AS context,
            TIMESTAMP '2026-01-01' + to_seconds(i % 30000000) AS ts
        FROM x
        """
    ).to_arrow_table()
    truth = con.sql(
        "SELECT 'msg-' || i AS key, 'person-' || person AS cluster FROM m"
    ).to_arrow_table()
    ts = events.column("ts").cast(pa.timestamp("us", tz="UTC"))
    columns: dict[str, Any] = {}
    for f in EVENTS_SCHEMA:
        if f.name in ("timestamp", "original_timestamp"):
            columns[f.name] = ts
        elif f.name in ("sent_at", "received_at", "ingested_at"):
            columns[f.name] = pa.array([NOW] * events.num_rows, pa.timestamp("us", tz="UTC"))
        else:
            columns[f.name] = events.column(f.name).cast(f.type)
    return pa.table(columns, schema=EVENTS_SCHEMA), truth


def bare_label_propagation(con: Any) -> dict[str, Any]:
    """A yardstick measured on the same machine at the same moment: textbook label propagation
    (every node takes the smallest label among itself and its neighbours, until nothing
    changes) in bare DuckDB over the same graph's distinct edges, against Tandem's
    `components` (hooking + pointer jumping) over the same edges."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bench_e AS SELECT a, b FROM _tandem_edges WHERE a <> b "
        "UNION SELECT b, a FROM _tandem_edges WHERE a <> b"
    ).fetchall()
    edges = con.execute("SELECT count(*) FROM bench_e").fetchall()[0][0]
    started = time.perf_counter()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bench_l AS SELECT a AS nid, least(a, min(b)) AS label "
        "FROM bench_e GROUP BY a"
    ).fetchall()
    rounds = 1
    while True:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE bench_l2 AS
            SELECT e.a AS nid, least(any_value(l.label), min(n.label)) AS label
            FROM bench_e e JOIN bench_l l ON l.nid = e.a JOIN bench_l n ON n.nid = e.b
            GROUP BY e.a
            """
        ).fetchall()
        changed = con.execute(
            "SELECT count(*) FROM bench_l2 x JOIN bench_l y USING (nid) WHERE x.label <> y.label"
        ).fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE bench_l AS SELECT * FROM bench_l2").fetchall()
        rounds += 1
        if not changed:
            break
    bare = time.perf_counter() - started
    started = time.perf_counter()
    tandem_rounds = identity.components(con, "bench_e", "bench_tl")
    ours = time.perf_counter() - started
    same = con.execute(
        "SELECT count(*) FROM bench_l JOIN bench_tl USING (nid) "
        "WHERE bench_l.label <> bench_tl.label"
    ).fetchall()[0][0]
    for name in ("bench_e", "bench_l", "bench_l2", "bench_tl"):
        con.execute(f"DROP TABLE IF EXISTS {name}").fetchall()
    return {
        "directed_edges": int(edges),
        "bare_seconds": round(bare, 2),
        "bare_rounds": rounds,
        "tandem_components_seconds": round(ours, 2),
        "tandem_rounds": tandem_rounds,
        "labels_disagreeing": int(same),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out: dict[str, Any] = {
        "records": args.records,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        events, truth = generate(args.records, args.seed)
        ws = Workspace.init(Path(tmp) / "ws", company="Bench")
        lake = ws.lake
        lake.table(EVENTS)  # created with its partitioning
        write_deltalake(lake.table_path(EVENTS), events, mode="append", partition_by=["source"])
        out["generate_seconds"] = round(time.perf_counter() - started, 2)

        # deterministic resolution alone: identifiers -> graph -> ids
        settings = ws.settings.identity
        con = lake.con.con
        t0, c0 = time.perf_counter(), time.process_time()
        extracted = identifiers.extract(lake, settings)
        t1 = time.perf_counter()
        graph = identity.build_graph(con, settings, None)
        t2 = time.perf_counter()
        identity.assign_ids(lake, now=NOW, run_id=0)
        t3, c3 = time.perf_counter(), time.process_time()
        out["bare_label_propagation"] = bare_label_propagation(con)
        out["identifiers"] = extracted.identifiers
        out["distinct_identifiers"] = graph.nodes
        out["phones_fast_path"] = extracted.phones_fast_path
        out["phones_parsed"] = extracted.phones_parsed
        out["deterministic"] = {
            "identifiers_seconds": round(t1 - t0, 2),
            "graph_seconds": round(t2 - t1, 2),
            "ids_seconds": round(t3 - t2, 2),
            "total_seconds": round(t3 - t0, 2),
            "total_cpu_seconds": round(c3 - c0, 2),
            "customers": graph.clusters,
            "shared_identifiers": graph.shared,
            "label_rounds": graph.rounds,
        }

        # the whole resolve, as `tandem resolve` runs it, twice
        t0, c0 = time.perf_counter(), time.process_time()
        first = resolve(ws, now=NOW)
        out["resolve_seconds"] = round(time.perf_counter() - t0, 2)
        out["resolve_cpu_seconds"] = round(time.process_time() - c0, 2)
        out["resolve_stages"] = first.seconds
        out["customers"] = first.counts["customers"]
        t0 = time.perf_counter()
        second = resolve(ws, now=NOW)
        out["resolve_again_seconds"] = round(time.perf_counter() - t0, 2)
        out["ids_continued_on_second_run"] = second.counts["ids_continued"]
        out["ids_new_on_second_run"] = second.counts["ids_new"]

        ids = lake.raw("identities").select("message_id", "customer_id").to_pyarrow()
        scores = pairwise_scores(
            pa.table({"key": ids["message_id"], "cluster": ids["customer_id"]}), truth
        )
        out["accuracy"] = {
            "precision": round(scores.precision, 5),
            "recall": round(scores.recall, 5),
            "f1": round(scores.f1, 5),
        }
        ws.close()
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
