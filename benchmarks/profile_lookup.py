"""What reading one customer's profile costs: GET /api/customers/{id} on a large lake.

Builds (seeded, in DuckDB) the lake of benchmarks/resolve.py: N messages (default 1,000,000)
of N/4 people. The identities are written from the generator's truth (one customer per person,
the ids a resolution would keep), with a customer-ids row and an identity link per customer, so
the figures measure profiles, not resolution (benchmarks/resolve.py times that). Then:

- `build_profiles` on that lake (seconds, profiles written);
- GET /api/customers/{id}?explain=false through the whole ASGI stack in process (bearer
  token, access policy, profile lookup) for random customers: p50 / p99 / max in ms; the same
  with the explanation (identity resolution's `explain`, fewer requests); and
  GET /api/customers?identifier=EMAIL (a lookup by identifier: the first of a table version
  reads the identifiers column, reported apart; the others search it in memory).

Target (issue 4, from the earlier API issue): p99 < 20 ms for GET /api/customers/{id}.
Prints JSON. Usage: uv run python benchmarks/profile_lookup.py [--records N] [--requests N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from deltalake import write_deltalake

from tandem import Workspace
from tandem.customers.profiles import build_profiles
from tandem.lake.derived import replace_table
from tandem.lake.schema import EVENTS, SCHEMAS
from tandem.server.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2
    from starlette.testclient import TestClient

NOW = datetime(2026, 11, 23, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_resolve", Path(__file__).parent / "resolve.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def timings(call: Callable[[], Any], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(samples[len(samples) // 2], 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "max_ms": round(samples[-1], 2),
    }


def resolution_from_truth(ws: Workspace, events: pa.Table, truth: pa.Table) -> None:
    con = duckdb.connect()
    con.register("e", events.select(["source", "message_id"]))
    con.register("t", truth)
    identities = con.sql(
        "SELECT e.source, e.message_id, e.message_id AS record_id, "
        "'cus_' || md5(t.cluster)[:16] AS customer_id "
        "FROM e JOIN t ON t.key = e.message_id"
    ).to_arrow_table()
    customers = con.sql("SELECT DISTINCT customer_id FROM identities").to_arrow_table()
    n = customers.num_rows
    replace_table(ws.lake, "identities", identities)
    replace_table(
        ws.lake,
        "customer_ids",
        pa.table(
            {
                "customer_id": customers["customer_id"],
                "created_at": pa.array([NOW] * n, pa.timestamp("us", tz="UTC")),
                "run": pa.array([1] * n, pa.int64()),
                "merged_into": pa.nulls(n, pa.string()),
                "merged_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    schema = SCHEMAS["identity_links"]
    links = {name: pa.nulls(n, schema.field(name).type) for name in schema.names}
    links["customer_id"] = customers["customer_id"]
    links["kind"] = pa.array(["identifier"] * n)
    links["id_type"] = pa.array(["user_id"] * n)
    links["id_value"] = customers["customer_id"]
    links["records"] = pa.array([4] * n, pa.int64())
    replace_table(ws.lake, "identity_links", pa.table(links, schema=schema))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--explain-requests",
        type=int,
        default=20,
        help="requests with the explanation (identity.explain), slower: fewer of them",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out: dict[str, Any] = {"records": args.records, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        events, truth = _generator()(args.records, args.seed)
        ws = Workspace.init(Path(tmp) / "ws", company="Bench")
        lake = ws.lake
        lake.table(EVENTS)
        write_deltalake(lake.table_path(EVENTS), events, mode="append", partition_by=["source"])
        for name in ("web", "app"):
            ws.sources.add(name, kind=name, owners=["marketing"])
        resolution_from_truth(ws, events, truth)
        out["generate_seconds"] = round(time.perf_counter() - started, 2)

        stats = build_profiles(ws, now=NOW, run=1)
        out["build_profiles"] = stats.to_dict()

        profiles = lake.table("profiles").to_pyarrow_table(columns=["customer_id", "email"])
        rng = random.Random(args.seed)
        ids = profiles["customer_id"].to_pylist()
        emails = [e for e in profiles["email"].to_pylist() if e]
        ws.accounts.add("bench@example.com", function="digital", role="editor", password=PASSWORD)
        _, token = ws.accounts.create_token("bench@example.com", "bench")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(ws), base_url="http://bench.test") as client:

            def get(url: str, **params: Any) -> Callable[[], None]:
                def call() -> None:
                    answer = client.get(url.format(rng.choice(ids)), headers=headers, params=params)
                    assert answer.status_code == 200, answer.text

                return call

            get("/api/customers/{}", explain="false")()  # the first call opens the handles
            out["get_customer_without_explanation"] = timings(
                get("/api/customers/{}", explain="false"), args.requests
            )
            out["get_customer_with_explanation"] = timings(
                get("/api/customers/{}"), args.explain_requests
            )

            def by_email() -> None:
                answer = client.get(
                    "/api/customers", headers=headers, params={"identifier": rng.choice(emails)}
                )
                assert answer.status_code == 200 and answer.json()["total"] >= 1, answer.text

            # the first lookup by identifier of a table version reads the identifiers column
            out["first_lookup_by_email_ms"] = timings(by_email, 1)["max_ms"]
            out["lookup_by_email"] = timings(by_email, max(20, args.requests // 10))
        out["target_p99_ms"] = 20
        ws.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
