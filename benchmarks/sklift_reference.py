"""Reference numbers from scikit-uplift (sklift 0.5.1) for Tandem's Qini and uplift curves.

scikit-uplift is not a Tandem dependency: this script runs in its own virtual environment,
`make sklift-reference` creates `.sklift-venv/` (scikit-uplift 0.5.1 on Tandem's numpy 2.4.6 and
scikit-learn 1.9.1) and runs

    .sklift-venv/bin/python benchmarks/sklift_reference.py \
        --out tests/campaigns/data/sklift_reference.json

(In Tandem's own environment, as `make bench` runs it, it says it was skipped.)

For seeded synthetic cases (0/1 outcomes, treatment flags, scores with and without ties, equal
and unequal arms, a real effect, a heterogeneous one and none) it records the inputs and
sklift's `qini_curve`, `uplift_curve`, `qini_auc_score` (negative effects allowed, its default)
and `uplift_auc_score`. tests/campaigns/test_uplift.py compares tandem.campaigns.uplift with
them (CI never runs sklift). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20261206


def cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    out = []

    def add(name: str, y: np.ndarray, t: np.ndarray, s: np.ndarray) -> None:
        out.append(
            {
                "name": name,
                "y": [int(v) for v in y],
                "treatment": [int(v) for v in t],
                "score": [float(v) for v in s],
            }
        )

    n = 600
    x = rng.random(n)
    t = (rng.random(n) < 0.5).astype(int)
    # heterogeneous: +30 points when x > 0.6, nothing otherwise; the score knows x, noisily
    p = 0.1 + 0.3 * t * (x > 0.6)
    add("heterogeneous", (rng.random(n) < p).astype(int), t, x + rng.normal(0, 0.2, n))
    # the same outcomes scored with ties (scores rounded to one decimal)
    add("ties", np.array(out[0]["y"]), t, np.round(x, 1))
    # a uniform effect (+10 points), random scores
    y = (rng.random(n) < 0.2 + 0.1 * t).astype(int)
    add("uniform-random-scores", y, t, rng.random(n))
    # no effect at all
    add("null", (rng.random(n) < 0.15).astype(int), t, rng.normal(0, 1, n))
    # unequal arms: 20% control
    t2 = (rng.random(n) < 0.8).astype(int)
    x2 = rng.random(n)
    y2 = (rng.random(n) < 0.05 + 0.25 * t2 * (x2 < 0.3)).astype(int)
    add("unequal-arms", y2, t2, -x2 + rng.normal(0, 0.1, n))
    # a harmful treatment for half the customers
    x3 = rng.random(n)
    y3 = (rng.random(n) < 0.3 - 0.2 * t * (x3 > 0.5) + 0.1 * t * (x3 <= 0.5)).astype(int)
    add("harmful-half", y3, t, -x3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("tests/campaigns/data/sklift_reference.json")
    )
    args = parser.parse_args()
    try:
        from sklift.metrics import qini_auc_score, qini_curve, uplift_auc_score, uplift_curve
    except ImportError:  # `make bench` runs every script in Tandem's venv, which has no sklift
        print(
            json.dumps({"skipped": "scikit-uplift is not installed here: `make sklift-reference`"})
        )
        return
    results = []
    for case in cases():
        y = np.array(case["y"])
        t = np.array(case["treatment"])
        s = np.array(case["score"])
        qx, qy = qini_curve(y, s, t)
        ux, uy = uplift_curve(y, s, t)
        results.append(
            {
                **case,
                "qini_curve": {"x": qx.tolist(), "y": qy.tolist()},
                "uplift_curve": {"x": ux.tolist(), "y": uy.tolist()},
                "qini_auc_score": float(qini_auc_score(y, s, t)),
                "uplift_auc_score": float(uplift_auc_score(y, s, t)),
            }
        )
    data = {
        "generator": "benchmarks/sklift_reference.py",
        "versions": {
            "python": platform.python_version(),
            "scikit-uplift": importlib.metadata.version("scikit-uplift"),
            "numpy": np.__version__,
            "scikit-learn": importlib.metadata.version("scikit-learn"),
        },
        "seed": SEED,
        "cases": results,
    }
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                "cases": len(results),
                "out": str(args.out),
                "versions": data["versions"],
                "qini_auc_score": {r["name"]: r["qini_auc_score"] for r in results},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
