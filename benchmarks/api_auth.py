"""What signing in and authenticating API calls cost.

- sign-in: one argon2id verification with the production parameters (argon2-cffi defaults)
- per request: resolving a bearer token (SHA-256 + one indexed lookup) or a session cookie
  (signature + one lookup), measured on GET /api/capabilities/crm against GET /api/health
  (no authentication) through the whole ASGI stack in process.

Prints JSON. Usage: uv run python benchmarks/api_auth.py [--requests N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tandem import Workspace
from tandem.server.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"


def timings(call: Callable[[], Any], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "n": n,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(n - 1, int(n * 0.99))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws", company="Bench")
        ws.accounts.add("a@example.com", function="it", role="admin", password=PASSWORD)
        _, token = ws.accounts.create_token("a@example.com", "bench")
        with TestClient(create_app(ws), base_url="http://bench.test") as client:
            sign_in = timings(
                lambda: client.post(
                    "/api/session", json={"email": "a@example.com", "password": PASSWORD}
                ).raise_for_status(),
                10,
            )
            session = TestClient(client.app, base_url="http://bench.test")
            session.post("/api/session", json={"email": "a@example.com", "password": PASSWORD})
            bearer = {"Authorization": f"Bearer {token}"}
            n = args.requests
            result = {
                "sign_in_argon2": sign_in,
                "health_no_auth": timings(lambda: client.get("/api/health").raise_for_status(), n),
                "capability_bearer_token": timings(
                    lambda: client.get("/api/capabilities/crm", headers=bearer).raise_for_status(),
                    n,
                ),
                "capability_session_cookie": timings(
                    lambda: session.get("/api/capabilities/crm").raise_for_status(), n
                ),
                "note": "2 slow shared cores with other engineers' tests running: pessimistic",
            }
        ws.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
