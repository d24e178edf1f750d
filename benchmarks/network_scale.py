"""The couples network and initiatives on a large organisation.

50 functions x 500 capabilities (the ownership benchmark's organisation), a pulse survey of 2,000
answers, 40 co-owned sources and 200 initiatives with 3 KPIs and 6 reported values each. Measures
`network.show()` (all evidence kinds, networkx measures, findings) and `initiatives.list()` (every
KPI's progress). Issue 6 sets no figure; 2 seconds each is the bar used here, as for ownership.

Prints JSON. Usage: uv run python benchmarks/network_scale.py [--initiatives N] [--answers N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tandem import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from ownership_scale import organisation

TARGET_SECONDS = 2.0


def initiatives(keys: list[str], count: int, rng: random.Random) -> dict[str, Any]:
    items = []
    for i in range(count):
        owners = rng.sample(keys, rng.randint(2, 4))
        items.append(
            {
                "key": f"initiative-{i:04d}",
                "owners": owners,
                "customer_facing": i % 2 == 0,
                "status": rng.choice(["proposed", "active", "done"]),
                "origin": rng.choice(["top-down", "bottom-up"]),
                "team": [
                    {"name": f"Member {i}-{j}", "function": rng.choice(keys)} for j in range(4)
                ],
                "kpis": [
                    {
                        "key": f"kpi-{k}",
                        "target": 100,
                        "history": [
                            {"date": f"2026-{m:02d}-01", "value": rng.uniform(0, 120)}
                            for m in range(1, 7)
                        ],
                    }
                    for k in range(3)
                ],
            }
        )
    return {"initiatives": items}


def survey_csv(keys: list[str], answers: int, rng: random.Random) -> str:
    lines = ["function,marketing-it,digital-it,works-with"]
    for _ in range(answers):
        fn = rng.choice(keys[:30])
        named = ";".join(rng.sample(keys, 3))
        lines.append(f"{fn},{rng.randint(1, 5)},{rng.randint(1, 5)},{named}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--initiatives", type=int, default=200)
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(6)
    # the digital-pulse template asks about the marketing, it and digital functions by key
    text = yaml.safe_dump(organisation(50, 500))
    for old, new in (("f001", "marketing"), ("f002", "it"), ("f003", "digital")):
        text = text.replace(old, new)
    org = yaml.safe_load(text)
    keys = [f["key"] for f in org["functions"]]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "org.yaml").write_text(text, encoding="utf-8")
        (root / "initiatives.yaml").write_text(
            yaml.safe_dump(initiatives(keys, args.initiatives, rng)), encoding="utf-8"
        )
        with Workspace.init(root / "ws", company="Scale Co") as ws:
            ws.ownership.import_file(root / "org.yaml")
            ws.surveys.create("pulse", "digital-pulse")
            ws.surveys.import_text("pulse", survey_csv(keys, args.answers, rng))
            for i in range(40):
                ws.sources.add(f"source-{i}", kind="web", owners=rng.sample(keys, 3))
            t0 = time.perf_counter()
            ws.initiatives.import_file(root / "initiatives.yaml")
            import_s = time.perf_counter() - t0
            show, listing = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                report = ws.network.show()
                show.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                items = ws.initiatives.list()
                listing.append(time.perf_counter() - t0)
    edges = sum(1 for w in report.combined.values() if w > 0)
    print(
        json.dumps(
            {
                "benchmark": "network_scale",
                "functions": len(keys),
                "capabilities": 500,
                "survey_answers": args.answers,
                "sources": 40,
                "initiatives": len(items),
                "kpis": sum(len(i.kpis) for i in items),
                "edges": edges,
                "findings": len(report.findings),
                "initiatives_import_seconds": round(import_s, 3),
                "network_show_seconds_median": round(statistics.median(show), 4),
                "initiatives_list_seconds_median": round(statistics.median(listing), 4),
                "target_seconds": TARGET_SECONDS,
                "met": max(statistics.median(show), statistics.median(listing)) < TARGET_SECONDS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
