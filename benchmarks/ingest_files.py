"""File ingest speed: Parquet and NDJSON files of Segment track/identify messages into `events`.

Targets (issue 3): >= 500,000 rows/s from Parquet and >= 250,000 rows/s from NDJSON, validation
and dedupe included. Also measures a second import of the same file (all duplicates) and DuckDB
copying the same file to Parquet, as the reference the targets were set against.

The machine may be shared: `cpu_seconds` (this process's CPU time during the import, all threads)
does not depend on other work the way `seconds` (wall clock) does, and the load average is printed
before and after. Prints JSON. Usage: uv run python benchmarks/ingest_files.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tandem.customers.ingest import ingest_file
from tandem.lake import Lake

TARGETS = {"parquet": 500_000, "ndjson": 250_000}
EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Newsletter Opened"]


def messages(rows: int, seed: int = 1) -> pa.Table:
    """Realistic track/identify messages with properties, context and timestamps."""
    rng = random.Random(seed)
    users = [f"user-{i}" for i in range(max(rows // 20, 1))]
    data: dict[str, list[Any]] = {
        "type": [],
        "messageId": [],
        "userId": [],
        "anonymousId": [],
        "event": [],
        "timestamp": [],
        "properties": [],
        "context": [],
    }
    for i in range(rows):
        track = rng.random() < 0.9
        data["type"].append("track" if track else "identify")
        data["messageId"].append(f"m-{seed}-{i}")
        data["userId"].append(rng.choice(users) if rng.random() < 0.7 else None)
        data["anonymousId"].append(f"anon-{rng.randrange(rows)}")
        data["event"].append(rng.choice(EVENTS) if track else None)
        data["timestamp"].append(
            f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        )
        data["properties"].append(
            json.dumps({"sku": f"SKU-{rng.randrange(5000)}", "price": round(rng.random() * 100, 2)})
        )
        data["context"].append(
            json.dumps({"ip": f"10.0.{rng.randrange(255)}.{rng.randrange(255)}"})
        )
    return pa.table(data)


def write_files(table: pa.Table, folder: Path) -> dict[str, Path]:
    con = duckdb.connect()
    con.register("t", table)
    ndjson = folder / "events.ndjson"
    parquet = folder / "events.parquet"
    # properties/context as real nested objects in both files
    select = (
        "SELECT type, messageId, userId, anonymousId, event, timestamp, "
        "properties::JSON AS properties, context::JSON AS context FROM t"
    )
    con.execute(f"COPY ({select}) TO '{ndjson}' (FORMAT json)")
    nested = con.sql(
        "SELECT type, messageId, userId, anonymousId, event, timestamp, "
        'json_transform(properties, \'{"sku": "VARCHAR", "price": "DOUBLE"}\') AS properties,'
        ' json_transform(context, \'{"ip": "VARCHAR"}\') AS context FROM t'
    ).to_arrow_table()
    pq.write_table(nested, parquet)
    return {"ndjson": ndjson, "parquet": parquet}


def measure(folder: Path, files: dict[str, Path], rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, path in files.items():
        lake = Lake(folder / f"lake-{kind}")
        cpu = _cpu_seconds()
        started = time.perf_counter()
        first = ingest_file(lake, path, source=kind)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        started = time.perf_counter()
        again = ingest_file(lake, path, source=kind)
        again_seconds = time.perf_counter() - started
        con = duckdb.connect()
        started = time.perf_counter()
        reader = "read_json" if kind == "ndjson" else "read_parquet"
        con.execute(f"COPY (SELECT * FROM {reader}('{path}')) TO '{folder / 'copy.parquet'}'")
        copy_seconds = time.perf_counter() - started
        assert first.accepted == rows and again.duplicates == rows, (first, again)
        out[kind] = {
            "rows": rows,
            "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds),
            "target_rows_per_second": TARGETS[kind],
            "meets_target": rows / seconds >= TARGETS[kind],
            "cpu_seconds": round(cpu, 3),
            "reimport_seconds": round(again_seconds, 3),
            "reimport_duplicates": again.duplicates,
            "duckdb_copy_rows_per_second": round(rows / copy_seconds),
            "file_megabytes": round(path.stat().st_size / 1e6, 1),
        }
        lake.close()
    return out


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(messages(args.rows), folder)
        load_before = os.getloadavg()
        result = {
            "benchmark": "ingest_files",
            "note": "2 slow cores shared with other work: figures are pessimistic",
            "cpus": os.cpu_count(),
            **measure(folder, files, args.rows),
            "load_average_1min_before_after": [
                round(load_before[0], 2),
                round(os.getloadavg()[0], 2),
            ],
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
