"""Reference numbers from GrowthBook's stats engine (gbstats 0.8.0) for Tandem's lift statistics.

gbstats needs pandas < 2, so this script runs in its own virtual environment, never in Tandem's:
`make gbstats-reference` creates `.gbstats-venv/`, installs gbstats 0.8.0 there and runs

    .gbstats-venv/bin/python benchmarks/gbstats_reference.py \
        --out tests/campaigns/data/gbstats_reference.json

For every case (per-arm summary statistics: n, sum, sum of squares and, for CUPED, the
covariate's sum, sum of squares and the cross-product) it calls gbstats's own test classes, as
GrowthBook's `get_configured_test` does: TwoSidedTTest (absolute and relative), the same on
RegressionAdjustedStatistic (CUPED), SequentialTwoSidedTTest, EffectBayesianABTest (default
prior) and check_srm. The JSON holds the inputs, gbstats's outputs and the versions used;
tests/campaigns/test_stats.py compares Tandem's numbers with it (CI never runs gbstats).

The inputs are summary statistics of seeded synthetic data (or, for the largest cases, sums
written from chosen moments). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20261206


# ------------------------------------------------------------------------------------------------
# Cases: per-arm summary statistics


def prop(n: int, conversions: int) -> dict[str, Any]:
    return {"n": n, "sum": float(conversions), "sum_sq": float(conversions)}


def from_values(y: np.ndarray, x: np.ndarray | None = None) -> dict[str, Any]:
    arm: dict[str, Any] = {
        "n": len(y),
        "sum": float(y.sum()),
        "sum_sq": float((y * y).sum()),
    }
    if x is not None:
        arm["cov_sum"] = float(x.sum())
        arm["cov_sum_sq"] = float((x * x).sum())
        arm["cross"] = float((x * y).sum())
    return arm


def from_moments(
    n: int,
    mean: float,
    var: float,
    cov_mean: float | None = None,
    cov_var: float | None = None,
    covariance: float | None = None,
) -> dict[str, Any]:
    """Sums of n values with the given (population) moments."""
    arm: dict[str, Any] = {"n": n, "sum": n * mean, "sum_sq": n * (var + mean * mean)}
    if cov_mean is not None and cov_var is not None and covariance is not None:
        arm["cov_sum"] = n * cov_mean
        arm["cov_sum_sq"] = n * (cov_var + cov_mean * cov_mean)
        arm["cross"] = n * (covariance + mean * cov_mean)
    return arm


def revenue(rng: np.random.Generator, n: int, buy: float, scale: float) -> np.ndarray:
    """Zero-inflated log-normal revenue per customer."""
    bought = rng.random(n) < buy
    return np.where(bought, np.round(rng.lognormal(np.log(scale), 0.8, n), 2), 0.0)


def correlated_revenue(
    rng: np.random.Generator, n: int, lift: float
) -> tuple[np.ndarray, np.ndarray]:
    """(this period's revenue, last period's revenue) of n customers; correlated via a
    per-customer spending level."""
    level = rng.lognormal(3.0, 0.7, n)
    pre = np.round(level * rng.gamma(4.0, 0.25, n), 2)
    post = np.round(level * (1 + lift) * rng.gamma(4.0, 0.25, n), 2)
    return post, pre


def cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    out: list[dict[str, Any]] = []

    def case(
        name: str,
        description: str,
        control: dict[str, Any],
        treatment: dict[str, Any],
        *,
        kind: str = "mean",
        covariate_kind: str | None = None,
        alpha: float = 0.05,
        tuning: float = 5000.0,
        shares: tuple[float, float] = (0.5, 0.5),
    ) -> None:
        out.append(
            {
                "name": name,
                "description": description,
                "kind": kind,
                "covariate_kind": covariate_kind or kind,
                "alpha": alpha,
                "sequential_tuning": tuning,
                "shares": list(shares),
                "control": control,
                "treatment": treatment,
            }
        )

    # Proportions
    case(
        "proportion_small",
        "conversion, 100 customers per arm",
        prop(100, 12),
        prop(100, 21),
        kind="proportion",
    )
    case(
        "proportion_medium",
        "conversion, 5,000 per arm",
        prop(5000, 480),
        prop(5000, 545),
        kind="proportion",
    )
    case(
        "proportion_large",
        "conversion, 2,000,000 per arm, a 1.8% relative lift",
        prop(2_000_000, 61_234),
        prop(2_000_000, 62_345),
        kind="proportion",
    )
    case(
        "proportion_no_effect",
        "conversion, 20,000 per arm, no effect",
        prop(20_000, 1_500),
        prop(20_000, 1_498),
        kind="proportion",
    )
    case(
        "proportion_holdout_10pct",
        "conversion, a 10% hold-out against 90% treated",
        prop(1_000, 41),
        prop(9_000, 423),
        kind="proportion",
        shares=(0.1, 0.9),
    )
    case(
        "proportion_alpha_10pct",
        "conversion, alpha 0.10, sequential tuning 500",
        prop(800, 64),
        prop(800, 83),
        kind="proportion",
        alpha=0.10,
        tuning=500.0,
    )
    case(
        "proportion_zero_control",
        "zero conversions in the control arm",
        prop(500, 0),
        prop(500, 7),
        kind="proportion",
    )
    case(
        "proportion_zero_treatment",
        "zero conversions in the treatment arm",
        prop(400, 9),
        prop(400, 0),
        kind="proportion",
    )
    case(
        "proportion_zero_both",
        "zero conversions in both arms",
        prop(300, 0),
        prop(300, 0),
        kind="proportion",
    )
    case(
        "proportion_all_converted_control",
        "every control customer converted",
        prop(50, 50),
        prop(50, 44),
        kind="proportion",
    )
    case(
        "proportion_one_customer",
        "one customer in the control arm",
        prop(1, 1),
        prop(100, 10),
        kind="proportion",
    )

    # Means
    case(
        "mean_small_revenue",
        "revenue, 15 and 18 customers",
        from_values(revenue(rng, 15, 0.6, 40.0)),
        from_values(revenue(rng, 18, 0.6, 48.0)),
    )
    case(
        "mean_medium_revenue",
        "revenue, 2,000 per arm, 10% buy",
        from_values(revenue(rng, 2000, 0.10, 55.0)),
        from_values(revenue(rng, 2000, 0.11, 57.0)),
    )
    case(
        "mean_counts",
        "count of an event, 3,000 per arm, sequential tuning 20,000",
        from_values(rng.poisson(1.3, 3000).astype(float)),
        from_values(rng.poisson(1.4, 3000).astype(float)),
        tuning=20_000.0,
    )
    case(
        "mean_negative_effect",
        "revenue falls in the treatment arm, 1,500 per arm",
        from_values(revenue(rng, 1500, 0.2, 60.0)),
        from_values(revenue(rng, 1500, 0.17, 60.0)),
    )
    case(
        "mean_large",
        "revenue, 10,000,000 per arm (sums from moments)",
        from_moments(10_000_000, 12.31, 400.0),
        from_moments(10_000_000, 12.35, 402.5),
    )
    case(
        "mean_unequal_arms",
        "revenue, 20% hold-out, alpha 0.01",
        from_values(revenue(rng, 600, 0.3, 30.0)),
        from_values(revenue(rng, 2400, 0.3, 33.0)),
        alpha=0.01,
        shares=(0.2, 0.8),
    )
    case(
        "mean_zero_control",
        "no revenue at all in the control arm",
        from_values(np.zeros(200)),
        from_values(revenue(rng, 200, 0.05, 30.0)),
    )
    case(
        "mean_constant_both",
        "every customer has the value 1 in both arms",
        from_values(np.ones(50)),
        from_values(np.ones(60)),
    )
    case(
        "mean_one_customer",
        "one customer in the treatment arm",
        from_values(revenue(rng, 40, 0.5, 20.0)),
        from_values(np.array([25.0])),
    )
    case(
        "mean_empty_control",
        "no customer in the control arm",
        {"n": 0, "sum": 0.0, "sum_sq": 0.0},
        from_values(revenue(rng, 40, 0.5, 20.0)),
    )

    # CUPED
    post_c, pre_c = correlated_revenue(rng, 3000, 0.0)
    post_t, pre_t = correlated_revenue(rng, 3000, 0.04)
    case(
        "cuped_revenue",
        "revenue with last period's revenue as covariate, 3,000 per arm",
        from_values(post_c, pre_c),
        from_values(post_t, pre_t),
    )
    post_c, pre_c = correlated_revenue(rng, 30, 0.0)
    post_t, pre_t = correlated_revenue(rng, 25, 0.1)
    case(
        "cuped_revenue_small",
        "revenue with pre-period covariate, 30 and 25 customers",
        from_values(post_c, pre_c),
        from_values(post_t, pre_t),
    )
    case(
        "cuped_large",
        "revenue with covariate, 5,000,000 per arm (sums from moments)",
        from_moments(5_000_000, 20.0, 900.0, 19.5, 850.0, 520.0),
        from_moments(5_000_000, 20.1, 910.0, 19.5, 845.0, 530.0),
    )
    pre_c = (rng.random(4000) < 0.3).astype(float)
    pre_t = (rng.random(4000) < 0.3).astype(float)
    post_c = (rng.random(4000) < np.where(pre_c == 1, 0.4, 0.1)).astype(float)
    post_t = (rng.random(4000) < np.where(pre_t == 1, 0.44, 0.12)).astype(float)
    case(
        "cuped_proportion",
        "conversion with last period's conversion (0/1) as covariate",
        from_values(post_c, pre_c),
        from_values(post_t, pre_t),
        kind="proportion",
    )
    spend_c = np.round(rng.gamma(2.0, 50.0, 4000), 2)
    spend_t = np.round(rng.gamma(2.0, 50.0, 4000), 2)
    post_c = (rng.random(4000) < 0.05 + spend_c / 2000).astype(float)
    post_t = (rng.random(4000) < 0.06 + spend_t / 2000).astype(float)
    case(
        "cuped_proportion_numeric_covariate",
        "conversion with a numeric trait (last year's spend) as covariate",
        from_values(post_c, spend_c),
        from_values(post_t, spend_t),
        kind="proportion",
        covariate_kind="mean",
    )
    y_c = rng.poisson(2.0, 2500).astype(float)
    y_t = rng.poisson(2.1, 2500).astype(float)
    case(
        "cuped_uncorrelated",
        "counts with an unrelated covariate, sequential tuning 1,000",
        from_values(y_c, rng.normal(0, 1, 2500)),
        from_values(y_t, rng.normal(0, 1, 2500)),
        tuning=1000.0,
    )
    y_c = revenue(rng, 500, 0.3, 40.0)
    y_t = revenue(rng, 500, 0.3, 44.0)
    case(
        "cuped_constant_covariate",
        "the covariate is the same for everyone (theta = 0)",
        from_values(y_c, np.full(500, 3.0)),
        from_values(y_t, np.full(500, 3.0)),
    )
    return out


SRM_CASES: list[dict[str, Any]] = [
    {"name": "srm_balanced", "observed": [5000, 5061], "shares": [0.5, 0.5]},
    {"name": "srm_mismatch", "observed": [5000, 5400], "shares": [0.5, 0.5]},
    {"name": "srm_holdout", "observed": [1013, 8987], "shares": [0.1, 0.9]},
    {"name": "srm_three_arms", "observed": [4480, 4530, 990], "shares": [0.45, 0.45, 0.1]},
    {
        "name": "srm_three_arms_mismatch",
        "observed": [4480, 4530, 1190],
        "shares": [0.45, 0.45, 0.1],
    },
    {"name": "srm_large", "observed": [5_000_000, 5_004_000], "shares": [0.5, 0.5]},
    {"name": "srm_empty", "observed": [0, 0], "shares": [0.5, 0.5]},
]


# ------------------------------------------------------------------------------------------------
# gbstats


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )
    from gbstats.models.statistics import (
        ProportionStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )
    from gbstats.utils import check_srm

    kind, cov_kind = case["kind"], case["covariate_kind"]
    alpha, tuning = case["alpha"], case["sequential_tuning"]

    def base(n: int, s: float, ss: float, k: str) -> Any:
        # gbstats's base_statistic_from_metric_row: "binomial" or "count"
        if k == "proportion":
            return ProportionStatistic(n=n, sum=s)
        return SampleMeanStatistic(n=n, sum=s, sum_squares=ss)

    def plain(arm: dict[str, Any]) -> Any:
        return base(arm["n"], arm["sum"], arm["sum_sq"], kind)

    def adjusted(arm: dict[str, Any]) -> Any:
        # a fresh object per test: gbstats sets theta on the statistics it is given
        return RegressionAdjustedStatistic(
            n=arm["n"],
            post_statistic=base(arm["n"], arm["sum"], arm["sum_sq"], kind),
            pre_statistic=base(arm["n"], arm["cov_sum"], arm["cov_sum_sq"], cov_kind),
            post_pre_sum_of_products=arm["cross"],
            theta=0,
        )

    def frequentist(res: Any) -> dict[str, Any]:
        return {
            "estimate": res.expected,
            "ci_low": res.ci[0],
            "ci_high": res.ci[1],
            "p_value": res.p_value,
            "std_error": res.uplift.stddev,
            "error_message": res.error_message,
        }

    def bayesian(res: Any) -> dict[str, Any]:
        return {
            "chance_to_win": res.chance_to_win,
            "estimate": res.expected,
            "ci_low": res.ci[0],
            "ci_high": res.ci[1],
            "std_error": res.uplift.stddev,
            "error_message": res.error_message,
        }

    def family(make: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for diff in ("absolute", "relative"):
            test = TwoSidedTTest(
                make(case["control"]),
                make(case["treatment"]),
                FrequentistConfig(difference_type=diff, alpha=alpha),
            )
            out[diff] = frequentist(test.compute_result())
            seq = SequentialTwoSidedTTest(
                make(case["control"]),
                make(case["treatment"]),
                SequentialConfig(
                    difference_type=diff, alpha=alpha, sequential_tuning_parameter=tuning
                ),
            )
            out[f"sequential_{diff}"] = frequentist(seq.compute_result())
            bayes = EffectBayesianABTest(
                make(case["control"]),
                make(case["treatment"]),
                EffectBayesianConfig(difference_type=diff, alpha=alpha),
            )
            out[f"bayesian_{diff}"] = bayesian(bayes.compute_result())
        return out

    a, b = plain(case["control"]), plain(case["treatment"])
    result: dict[str, Any] = {
        "control_mean": a.mean,
        "treatment_mean": b.mean,
        "control_std": a.stddev,
        "treatment_std": b.stddev,
        "srm_p_value": check_srm([a.n, b.n], case["shares"]),
        **family(plain),
    }
    if "cov_sum" in case["control"]:
        probe = TwoSidedTTest(adjusted(case["control"]), adjusted(case["treatment"]))
        theta = getattr(probe.stat_a, "theta", 0.0)  # 0: gbstats fell back to the plain stats
        result["cuped"] = {"theta": theta, **family(adjusted)}
    return result


def clean(value: Any) -> Any:
    """Plain Python floats (numpy scalars and lists made plain) for json."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("tests/campaigns/data/gbstats_reference.json")
    )
    args = parser.parse_args()
    try:
        version = importlib.metadata.version("gbstats")
    except importlib.metadata.PackageNotFoundError:
        print(
            json.dumps(
                {
                    "benchmark": "gbstats_reference",
                    "skipped": "gbstats is not installed here (it needs pandas < 2); run "
                    "`make gbstats-reference`, which installs it in its own venv",
                },
                indent=2,
            )
        )
        return
    if version != "0.8.0":
        sys.exit(f"gbstats {version} is installed; the reference is gbstats 0.8.0")
    from gbstats.utils import check_srm

    results = []
    for case in cases():
        results.append({**case, "gbstats": run_case(case)})
    srm = [{**c, "gbstats": {"p_value": check_srm(c["observed"], c["shares"])}} for c in SRM_CASES]
    data = {
        "generator": "benchmarks/gbstats_reference.py (make gbstats-reference)",
        "seed": SEED,
        "versions": {
            "gbstats": version,
            "python": platform.python_version(),
            **{p: importlib.metadata.version(p) for p in ("numpy", "scipy", "pandas")},
        },
        "cases": clean(results),
        "srm_cases": clean(srm),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    print(
        json.dumps(
            {
                "benchmark": "gbstats_reference",
                "out": str(args.out),
                "versions": data["versions"],
                "cases": [c["name"] for c in results],
                "srm_cases": [c["name"] for c in SRM_CASES],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
