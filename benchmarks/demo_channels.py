"""Build the demo's channel data for a large customer base and ingest it.

Target (H3 brief / issue 7's page benchmark): `tandem demo --customers 100000` channel data
generated and ingested in about two minutes or less on this 2-core machine.
The machine is shared: the JSON carries this process's CPU seconds and the load average, so a
slow wall-clock figure on a busy machine can be told apart from a slow generator.
Prints JSON. Usage: uv run python benchmarks/demo_channels.py [--customers N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from tandem import Workspace
from tandem.demo.channels import build_channels

TARGET_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Workspace.init(Path(tmp) / "demo", company="Harbour & Vine") as ws,
    ):
        load_before = os.getloadavg()[0]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        summary = build_channels(
            ws, customers=args.customers, seed=args.seed, as_of=date(2026, 11, 23)
        )
        total = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        files = {s.name: s.file.stat().st_size for s in summary.sources}
    print(
        json.dumps(
            {
                "benchmark": "demo_channels",
                "customers": args.customers,
                "rows_written": summary.rows,
                "accepted": summary.accepted,
                "rejected": summary.rejected,
                "duplicates": summary.duplicates,
                "rows_per_source": {s.name: s.rows for s in summary.sources},
                "file_megabytes": round(sum(files.values()) / 1e6, 1),
                "generate_seconds": round(summary.generate_seconds, 2),
                "ingest_seconds": round(summary.ingest_seconds, 2),
                "total_seconds": round(total, 2),
                "rows_per_second": round(summary.rows / total),
                "cpu_seconds": round(cpu, 2),
                "load_average_before": round(load_before, 2),
                "load_average_after": round(os.getloadavg()[0], 2),
                "peak_rss_megabytes": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ),
                "target_seconds": TARGET_SECONDS,
                "met": total <= TARGET_SECONDS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
