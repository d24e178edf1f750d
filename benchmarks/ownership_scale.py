"""Import and analyse a large organisation: 50 functions x 500 capabilities.

Target (issue 2): import + analysis (matrix, benchmark, findings) under 2 seconds.
Prints JSON. Usage: uv run python benchmarks/ownership_scale.py [--functions N] [--capabilities N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tandem import Workspace
from tandem.ownership.catalogue import FUNCTION_KINDS

TARGET_SECONDS = 2.0


def organisation(functions: int, capabilities: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = [k for k in FUNCTION_KINDS if k != "other"]
    fns = []
    for i in range(functions):
        kind = kinds[i] if i < len(kinds) else "other"
        people = [{"name": f"Person {i}-{j}", "title": "Lead"} for j in range(5)]
        fns.append(
            {
                "key": f"f{i:03d}",
                "name": f"Function {i}",
                "kind": kind,
                "head": people[0]["name"],
                "people": people,
            }
        )
    keys = [f["key"] for f in fns]
    caps = []
    for c in range(capabilities):
        chosen = rng.sample(keys, 8)
        owners = {chosen[0]: "RA", chosen[1]: rng.choice(["A", "R", "RA"])}
        owners.update({fn: "C" for fn in chosen[2:5]})
        owners.update({fn: "I" for fn in chosen[5:8]})
        caps.append(
            {
                "key": f"capability-{c:04d}",
                "name": f"Capability {c}",
                "customer_facing": c % 3 == 0,
                "owners": owners,
            }
        )
    bodies = [
        {"key": "steering", "kind": "steering_committee", "members": keys[:4]},
        {"key": "digital-team", "kind": "digital_team", "reports_to": keys[1:3]},
    ]
    return {"functions": fns, "capabilities": caps, "governance": bodies}


def run_once(path: Path, root: Path) -> dict[str, float]:
    with Workspace.init(root, company="Scale Co") as ws:
        t0 = time.perf_counter()
        summary = ws.ownership.import_file(path)
        t1 = time.perf_counter()
        model = ws.ownership.model()
        ws.ownership.matrix(model)
        ws.ownership.benchmark(model)
        found = ws.ownership.findings(model)
        t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "analyse_s": t2 - t1,
        "total_s": t2 - t0,
        "responsibilities": summary.responsibilities,
        "findings": len(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--capabilities", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "org.yaml"
        path.write_text(yaml.safe_dump(organisation(args.functions, args.capabilities)))
        runs = [run_once(path, Path(tmp) / f"ws{i}") for i in range(args.repeat)]
        # The same through the command line, interpreter start-up included.
        Workspace.init(Path(tmp) / "cli", company="Scale Co").close()
        t0 = time.perf_counter()
        for cmd in (["ownership", "import", str(path)], ["ownership", "findings", "--json"]):
            subprocess.run(
                [sys.executable, "-m", "tandem.cli", *cmd, "-w", str(Path(tmp) / "cli")],
                check=True,
                capture_output=True,
            )
        cli_s = time.perf_counter() - t0
    median = {
        k: statistics.median(r[k] for r in runs) for k in ("import_s", "analyse_s", "total_s")
    }
    print(
        json.dumps(
            {
                "benchmark": "ownership_scale",
                "functions": args.functions,
                "capabilities": args.capabilities,
                "responsibilities": runs[0]["responsibilities"],
                "findings": runs[0]["findings"],
                "repeat": args.repeat,
                "import_seconds_median": round(median["import_s"], 4),
                "analyse_seconds_median": round(median["analyse_s"], 4),
                "total_seconds_median": round(median["total_s"], 4),
                "total_seconds_max": round(max(r["total_s"] for r in runs), 4),
                "cli_two_commands_seconds": round(cli_s, 3),
                "target_seconds": TARGET_SECONDS,
                "met": median["total_s"] < TARGET_SECONDS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
