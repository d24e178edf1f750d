"""What `tandem resolve` costs on Spark next to DuckDB, and whether the customers are the same.

Builds the demo company (`--customers`, default 2,000; seeded), resolves it on DuckDB, then
resolves the same workspace again with `engine = "spark"` (a local session, `--master`, default
`local[2]`; probabilistic matching on Splink's Spark back-end), and prints JSON: seconds per
stage on each engine, the Spark session's start-up, the customers on each, where Splink ran and
what it found, and whether every message kept its customer (`same_identities`).

Needs the spark extra and Java 17+. Usage:
uv run python benchmarks/resolve_spark.py [--customers N] [--master local[2]]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tandem import Workspace
from tandem.customers.resolve import resolve
from tandem.demo.channels import build_channels

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _identities(ws: Workspace) -> list[tuple[Any, ...]]:
    table = ws.lake.raw("identities").to_pyarrow()
    return sorted(
        zip(
            table["source"].to_pylist(),
            table["message_id"].to_pylist(),
            table["customer_id"].to_pylist(),
            strict=True,
        )
    )


def _matching(stats: dict[str, Any]) -> dict[str, Any]:
    """Where Splink ran, its steps' seconds and what it found."""
    keys = ("engine", "steps", "compared_records", "pairs_compared", "pairs", "reason")
    return {k: stats[k] for k in keys if k in stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "ws"
        ws = Workspace.init(root, company="Benchmark Retail")
        started = time.perf_counter()
        build_channels(ws, customers=args.customers, seed=5, as_of=date(2026, 11, 23))
        built = time.perf_counter() - started

        started = time.perf_counter()
        on_duck = resolve(ws, now=NOW)
        duck_seconds = time.perf_counter() - started
        duck_ids = _identities(ws)

        toml = root / "tandem.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8").replace('engine = "duckdb"', 'engine = "spark"'),
            encoding="utf-8",
        )
        ws.close()
        ws = Workspace.open(root)
        from tandem.lake.spark import spark_session

        started = time.perf_counter()
        spark = spark_session(master=args.master)
        start_up = time.perf_counter() - started
        try:
            started = time.perf_counter()
            on_spark = resolve(ws, now=LATER)
            spark_seconds = time.perf_counter() - started
            same = _identities(ws) == duck_ids
        finally:
            ws.close()
            spark.stop()
    print(
        json.dumps(
            {
                "customers_generated": args.customers,
                "messages": on_duck.counts["messages"],
                "demo_build_seconds": round(built, 2),
                "duckdb": {
                    "seconds": round(duck_seconds, 2),
                    "stages": on_duck.seconds,
                    "customers": on_duck.counts["customers"],
                    "matching": _matching(on_duck.counts["matching"]),
                },
                "spark": {
                    "master": args.master,
                    "session_start_seconds": round(start_up, 2),
                    "seconds": round(spark_seconds, 2),
                    "stages": on_spark.seconds,
                    "customers": on_spark.counts["customers"],
                    "ids_continued": on_spark.counts["ids_continued"],
                    "matching": _matching(on_spark.counts["matching"]),
                },
                "same_identities": same,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
