"""Dashboard page speed: every page of the demo workspace, rendered by the real app in process.

Target (issue 7): every page of the demo workspace with 100,000 customers renders in under
200 ms at p95. Builds the demo (`tandem demo --customers N --no-serve`) unless --dir names one
already built, signs in as an admin, warms each page once (first-request imports, caches that
hold until the data changes), then requests each page --requests times and prints JSON with the
p50 / p95 / max per page.

Usage: uv run python benchmarks/pages.py [--customers 100000] [--dir DIR] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from tandem import Workspace
from tandem.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TARGET_MS = 200.0
PAGES = ["/", "/ownership", "/ownership/findings", "/collaboration", "/customers", "/campaigns"]
EMAIL = "bench@harbourandvine.example"
PASSWORD = "benchmark-password-123"


def build(directory: Path, customers: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tandem.cli",
            "demo",
            "--dir",
            str(directory),
            "--customers",
            str(customers),
            "--force",
            "--no-serve",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def signed_in(ws: Workspace) -> TestClient:
    if EMAIL not in {u.email for u in ws.accounts.users()}:
        ws.accounts.add(EMAIL, function="digital", role="admin", password=PASSWORD)
    client = TestClient(create_app(ws), follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    response = client.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
    )
    assert response.status_code == 303, response.text
    return client


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(client: TestClient, path: str, requests: int) -> dict[str, Any]:
    started = time.perf_counter()
    first = client.get(path)
    cold = (time.perf_counter() - started) * 1000
    assert first.status_code == 200, (path, first.status_code, first.text[:500])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return {
        "first_ms": round(cold, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "bytes": len(first.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="an already built demo workspace")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    build_seconds = None
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir
        if directory is None:
            directory = Path(tmp) / "demo"
            build_seconds = round(build(directory, args.customers), 1)
        with Workspace.open(directory) as ws:
            client = signed_in(ws)
            events = ws.lake.events().count().to_pyarrow().as_py()
            pages = {path: measure(client, path, args.requests) for path in PAGES}
            client.close()
    worst = max(p["p95_ms"] for p in pages.values())
    print(
        json.dumps(
            {
                "benchmark": "pages",
                "workspace": str(directory) if args.dir else "built for this run",
                "customers": args.customers if args.dir is None else "as built",
                "events": events,
                "build_seconds": build_seconds,
                "requests_per_page": args.requests,
                "pages": pages,
                "worst_p95_ms": worst,
                "target_p95_ms": TARGET_MS,
                "meets_target": worst < TARGET_MS,
                "note": "in-process requests (no network); a shared 2-core machine: pessimistic",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
