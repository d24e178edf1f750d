"""What an uplift model costs at the row cap (tandem.campaigns.uplift).

A seeded synthetic campaign of N customers (default 200,000: the default `max_rows`, the most
an uplift model reads into Python), half treated, with six numeric features and a three-level
segment; the treatment adds 5 points of conversion for one segment only. Times the cross-fitted
T-learner and X-learner (5 folds) and the Qini evaluation, and reports the Qini coefficient
and whether the affected segment is ranked first.

The machine is shared: besides wall-clock seconds the JSON has the process's CPU seconds and
the load average before and after. The fits are single-threaded by design (see uplift.py).

Prints JSON. Usage: uv run python benchmarks/uplift.py [--customers N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np

from tandem.campaigns.uplift import evaluate_scores, fit_frame


def frame(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    segment = rng.choice(np.array(["a", "b", "c"], dtype=object), size=n, p=[0.3, 0.4, 0.3])
    treated = (rng.random(n) < 0.5).astype(np.int64)
    out: dict[str, np.ndarray] = {"segment": segment, "treated": treated}
    for k in range(6):
        out[f"x{k}"] = rng.normal(0, 1, n)
    p = 0.05 + 0.02 * (out["x0"] > 0) + 0.05 * treated * (segment == "a")
    out["value"] = (rng.random(n) < p).astype(np.float64)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = frame(args.customers, args.seed)
    numeric = [f"x{k}" for k in range(6)]
    report: dict[str, Any] = {
        "customers": args.customers,
        "folds": 5,
        "load_average_before": os.getloadavg(),
    }
    affected = data["segment"] == "a"
    for learner in ("t", "x"):
        wall, cpu = time.perf_counter(), time.process_time()
        scores, _ = fit_frame(
            data, numeric=numeric, categorical=["segment"], learner=learner, seed=args.seed
        )
        fitted = time.perf_counter() - wall, time.process_time() - cpu
        wall = time.perf_counter()
        qini, auuc, _, _ = evaluate_scores(data["value"], data["treated"], scores)
        top = np.argsort(-scores, kind="mergesort")[: int(affected.sum())]
        report[learner] = {
            "fit_seconds": round(fitted[0], 2),
            "fit_cpu_seconds": round(fitted[1], 2),
            "evaluate_seconds": round(time.perf_counter() - wall, 3),
            "qini_coefficient": round(qini, 4),
            "auuc": round(auuc, 4),
            "affected_share_of_top": round(float(affected[top].mean()), 4),
        }
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
