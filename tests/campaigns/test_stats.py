"""Campaign lift statistics against GrowthBook's gbstats 0.8.0 (committed reference numbers) and
against scipy (a second, independent check)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from tandem.campaigns.stats import ArmSummary, Comparison, Estimate, compare, srm_check
from tandem.errors import InvalidValue

REFERENCE = json.loads((Path(__file__).parent / "data" / "gbstats_reference.json").read_text())
CASES = {c["name"]: c for c in REFERENCE["cases"]}
SRM_CASES = {c["name"]: c for c in REFERENCE["srm_cases"]}
TOL = 1e-6
FIELDS = ("estimate", "ci_low", "ci_high", "p_value", "std_error")
# Tandem's Estimate attribute -> gbstats result of the same test
PLAIN = {
    "absolute": "absolute",
    "relative": "relative",
    "sequential_absolute": "sequential_absolute",
    "sequential_relative": "sequential_relative",
}
CUPED = {
    "cuped_absolute": "absolute",
    "cuped_relative": "relative",
    "cuped_sequential_absolute": "sequential_absolute",
    "cuped_sequential_relative": "sequential_relative",
}
# Cases where gbstats gives no result (an error message, p = 1, interval [0, 0]); Tandem's own,
# documented behaviour is checked in test_departures_from_gbstats.
DEPARTURES = {
    "proportion_zero_control",
    "proportion_zero_treatment",
    "proportion_zero_both",
    "proportion_all_converted_control",
    "proportion_one_customer",
    "mean_zero_control",
    "mean_constant_both",
    "mean_one_customer",
    "mean_empty_control",
}


def tandem(case: dict[str, Any]) -> Comparison:
    return compare(
        ArmSummary(**case["control"]),
        ArmSummary(**case["treatment"]),
        kind=case["kind"],
        covariate_kind=case["covariate_kind"],
        alpha=case["alpha"],
        sequential=True,
        sequential_tuning=case["sequential_tuning"],
    )


def differences(case: dict[str, Any]) -> dict[str, float]:
    """|Tandem - gbstats| for every number gbstats gives a result for, keyed by field path."""
    ref, ours = case["gbstats"], tandem(case)
    out: dict[str, float] = {}

    def put(path: str, mine: float | None, theirs: float) -> None:
        assert mine is not None, f"{case['name']}: {path} is None, gbstats has {theirs}"
        out[path] = abs(mine - theirs)

    for attr in ("control_mean", "treatment_mean", "control_std", "treatment_std"):
        put(attr, getattr(ours, attr), ref[attr])
    put(
        "srm_p_value",
        srm_check([ours.control_n, ours.treatment_n], case["shares"]).p_value,
        ref["srm_p_value"],
    )

    def family(mapping: dict[str, str], family_ref: dict[str, Any], prefix: str) -> None:
        for attr, key in mapping.items():
            theirs = family_ref[key]
            if theirs["error_message"] is not None:
                continue
            estimate = getattr(ours, attr)
            assert isinstance(estimate, Estimate) and estimate.defined, (case["name"], attr)
            for field in FIELDS:
                put(f"{prefix}{attr}.{field}", getattr(estimate, field), theirs[field])

    family(PLAIN, ref, "")
    if ref["bayesian_relative"]["error_message"] is None:
        assert ours.chance_basis == "relative"
        put(
            "chance_to_beat_control",
            ours.chance_to_beat_control,
            ref["bayesian_relative"]["chance_to_win"],
        )
    if "cuped" in ref:
        put("cuped_theta", ours.cuped_theta, ref["cuped"]["theta"])
        family(CUPED, ref["cuped"], "")
        if ref["cuped"]["bayesian_relative"]["error_message"] is None:
            put(
                "cuped_chance_to_beat_control",
                ours.cuped_chance_to_beat_control,
                ref["cuped"]["bayesian_relative"]["chance_to_win"],
            )
    else:
        assert ours.cuped_absolute is None and ours.cuped_theta is None
    return out


def test_reference_was_made_by_gbstats_0_8_0() -> None:
    assert REFERENCE["versions"]["gbstats"] == "0.8.0"
    assert REFERENCE["versions"]["pandas"].startswith("1.")
    names = set(CASES)
    # the case list the issue asks for
    assert {n.split("_")[0] for n in names} == {"proportion", "mean", "cuped"}
    assert {"proportion_small", "proportion_large", "mean_small_revenue", "mean_large"} <= names
    assert {"proportion_zero_control", "proportion_zero_treatment", "cuped_large"} <= names


@pytest.mark.parametrize("name", sorted(CASES))
def test_equals_gbstats(name: str) -> None:
    case = CASES[name]
    diffs = differences(case)
    worst = max(diffs.items(), key=lambda kv: kv[1])
    assert worst[1] <= TOL, f"{name}: {worst[0]} differs from gbstats by {worst[1]:.3g}"
    ref = case["gbstats"]
    failed = {k for k, v in ref.items() if isinstance(v, dict) and v.get("error_message")}
    # gbstats refuses exactly the cases listed as departures; everything else is compared
    assert bool(failed) == (name in DEPARTURES), failed
    if name not in DEPARTURES:
        assert len([k for k in diffs if k.endswith(".p_value")]) == (8 if "cuped" in ref else 4)
        assert "chance_to_beat_control" in diffs


def test_max_differences_are_tiny() -> None:
    """Every compared number, all cases at once (the figure quoted in docs/statistics.md)."""
    worst: dict[str, float] = {}
    for case in CASES.values():
        for path, diff in differences(case).items():
            field = path.split(".")[-1] if "." in path else path
            worst[field] = max(worst.get(field, 0.0), diff)
    assert set(worst) >= {*FIELDS, "chance_to_beat_control", "cuped_theta", "srm_p_value"}
    assert max(worst.values()) <= TOL, worst


@pytest.mark.parametrize("name", sorted(SRM_CASES))
def test_srm_equals_gbstats_and_scipy(name: str) -> None:
    case = SRM_CASES[name]
    result = srm_check(case["observed"], case["shares"])
    assert result.p_value == pytest.approx(case["gbstats"]["p_value"], abs=TOL)
    assert result.observed == tuple(case["observed"])
    if sum(case["observed"]):
        expected = [s * sum(case["observed"]) for s in case["shares"]]
        chi2, p = sps.chisquare(case["observed"], expected)
        assert result.chi2 == pytest.approx(float(chi2), rel=1e-12)
        assert result.p_value == pytest.approx(float(p), abs=1e-12)
        assert result.expected == pytest.approx(expected)
    assert result.mismatch == (result.p_value < 0.001)
    assert result.mismatch == name.endswith("mismatch")


def scipy_welch(c: Comparison) -> Any:
    return sps.ttest_ind_from_stats(
        c.treatment_mean, c.treatment_std, c.treatment_n,
        c.control_mean, c.control_std, c.control_n,
        equal_var=False,
    )  # fmt: skip


def test_departures_from_gbstats() -> None:
    """gbstats gives p = 1 and the interval [0, 0] (with an error message) whenever the control
    mean is 0 or either arm has no variance. Tandem tests the absolute lift whenever the
    standard error is positive (what scipy's Welch test gives), and otherwise says why not."""
    c = tandem(CASES["proportion_zero_control"])  # 0/500 against 7/500
    assert c.absolute.defined and c.absolute.estimate == pytest.approx(7 / 500)
    assert c.absolute.p_value == pytest.approx(float(scipy_welch(c).pvalue), abs=1e-12)
    assert c.absolute.p_value < 0.05 and c.absolute.ci_low > 0
    assert c.relative.reason is not None and "control mean is 0" in c.relative.reason
    assert c.relative.p_value is None
    assert c.chance_basis == "absolute" and c.chance_to_beat_control > 0.99
    assert c.sequential_absolute is not None and c.sequential_absolute.defined
    assert c.sequential_relative is not None and not c.sequential_relative.defined

    c = tandem(CASES["proportion_zero_treatment"])  # 9/400 against 0/400
    assert c.absolute.defined and c.absolute.estimate == pytest.approx(-9 / 400)
    assert c.absolute.p_value == pytest.approx(float(scipy_welch(c).pvalue), abs=1e-12)
    assert c.relative.estimate == -1.0 and c.relative.p_value is None
    assert c.relative.reason is not None and "standard error is 0" in c.relative.reason
    assert c.chance_basis == "absolute" and c.chance_to_beat_control < 0.01

    c = tandem(CASES["proportion_all_converted_control"])  # 50/50 against 44/50
    assert c.absolute.p_value == pytest.approx(float(scipy_welch(c).pvalue), abs=1e-12)
    # delta method with no control variance: se = sd(treatment) / (control mean * sqrt(n))
    assert c.relative.estimate == pytest.approx(-0.12)
    assert c.relative.std_error == pytest.approx(math.sqrt(0.88 * 0.12 / 50))
    assert c.chance_basis == "relative"

    c = tandem(CASES["mean_zero_control"])
    assert c.absolute.p_value == pytest.approx(float(scipy_welch(c).pvalue), abs=1e-12)
    assert c.absolute.dof == pytest.approx(c.treatment_n - 1)
    assert not c.relative.defined and c.chance_basis == "absolute"

    no_variation = "no variation in either arm"
    for name, reason, relative_reason in (
        ("proportion_zero_both", no_variation, "the control mean is 0"),
        ("mean_constant_both", no_variation, no_variation),
        ("proportion_one_customer", "the control arm has 1 customer", None),
        ("mean_one_customer", "the treatment arm has 1 customer", None),
        ("mean_empty_control", "the control arm has 0 customers", None),
    ):
        c = tandem(CASES[name])
        for estimate, why in (
            (c.absolute, reason),
            (c.sequential_absolute, reason),
            (c.relative, relative_reason or reason),
            (c.sequential_relative, relative_reason or reason),
        ):
            assert estimate is not None and estimate.reason is not None, name
            assert why in estimate.reason, (name, estimate.reason)
            assert estimate.p_value is None and estimate.std_error == 0
            assert estimate.ci_low == estimate.ci_high == estimate.estimate
        assert c.chance_to_beat_control == 0.5 and c.chance_basis == "none"
        json.dumps(c.to_dict(), allow_nan=False)
    assert tandem(CASES["mean_empty_control"]).absolute.estimate == 0.0
    # with one customer the observed difference is still reported
    assert tandem(CASES["mean_one_customer"]).absolute.estimate == pytest.approx(
        25.0 - CASES["mean_one_customer"]["gbstats"]["control_mean"]
    )


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if n not in DEPARTURES])
def test_welch_equals_scipy_from_stats(name: str) -> None:
    c = tandem(CASES[name])
    result = scipy_welch(c)
    assert c.absolute.estimate / c.absolute.std_error == pytest.approx(
        float(result.statistic), rel=1e-10
    )
    assert c.absolute.p_value == pytest.approx(float(result.pvalue), rel=1e-8, abs=1e-300)


def test_welch_equals_scipy_on_rows() -> None:
    """Sums of seeded rows through Tandem against scipy's Welch test on the rows themselves."""
    rng = np.random.default_rng(7)
    control = rng.gamma(2.0, 20.0, 700) * (rng.random(700) < 0.4)
    treatment = rng.gamma(2.0, 22.0, 900) * (rng.random(900) < 0.42)

    def summary(x: np.ndarray) -> ArmSummary:
        return ArmSummary(len(x), float(x.sum()), float((x * x).sum()))

    c = compare(summary(control), summary(treatment), alpha=0.1)
    result = sps.ttest_ind(treatment, control, equal_var=False)
    ci = result.confidence_interval(0.9)
    assert c.absolute.p_value == pytest.approx(float(result.pvalue), rel=1e-9)
    assert c.absolute.dof == pytest.approx(float(result.df), rel=1e-9)
    assert (c.absolute.ci_low, c.absolute.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert c.control_mean == pytest.approx(control.mean())
    assert c.treatment_std == pytest.approx(treatment.std(ddof=1))

    # conversions: gbstats's (and Tandem's) variance of a rate is p(1 - p)
    conv_c, conv_t = (rng.random(3000) < 0.1), (rng.random(3000) < 0.12)
    c = compare(
        ArmSummary(3000, float(conv_c.sum()), float(conv_c.sum())),
        ArmSummary(3000, float(conv_t.sum()), float(conv_t.sum())),
        kind="proportion",
    )
    result = sps.ttest_ind_from_stats(
        conv_t.mean(), conv_t.std(), 3000, conv_c.mean(), conv_c.std(), 3000, equal_var=False
    )
    assert c.absolute.p_value == pytest.approx(float(result.pvalue), rel=1e-9)


def test_cuped_narrows_the_interval_when_the_covariate_predicts_the_metric() -> None:
    c = tandem(CASES["cuped_revenue"])
    assert c.cuped_absolute is not None and c.cuped_theta is not None and c.cuped_theta > 0.3
    assert c.cuped_absolute.std_error < 0.9 * c.absolute.std_error
    # an unrelated covariate changes almost nothing; a constant one nothing at all
    c = tandem(CASES["cuped_uncorrelated"])
    assert c.cuped_absolute is not None
    assert c.cuped_absolute.std_error == pytest.approx(c.absolute.std_error, rel=0.01)
    c = tandem(CASES["cuped_constant_covariate"])
    assert c.cuped_theta == 0 and c.cuped_absolute == c.absolute


def test_sequential_intervals_are_wider_than_fixed_ones() -> None:
    for case in CASES.values():
        c = tandem(case)
        for fixed, seq in (
            (c.absolute, c.sequential_absolute),
            (c.relative, c.sequential_relative),
        ):
            assert seq is not None
            if fixed.defined:
                assert seq.estimate == fixed.estimate
                assert seq.ci_low < fixed.ci_low and seq.ci_high > fixed.ci_high
                assert seq.p_value is not None and fixed.p_value is not None
                assert seq.p_value >= fixed.p_value


def test_optional_parts_are_absent_unless_asked() -> None:
    c = compare(ArmSummary(100, 10, 10), ArmSummary(100, 15, 15), kind="proportion")
    assert c.sequential_absolute is None and c.sequential_relative is None
    assert c.sequential_tuning is None
    assert c.cuped_absolute is None and c.cuped_relative is None
    assert c.cuped_chance_to_beat_control is None
    data = c.to_dict()
    assert data["absolute"]["estimate"] == pytest.approx(0.05)
    assert data["relative"]["estimate"] == pytest.approx(0.5)
    assert data["kind"] == "proportion"
    json.dumps(data, allow_nan=False)


def test_degenerate_input_never_raises_and_stays_finite() -> None:
    """Every small arm (n up to 3, sums every value can take) against every other: no exception,
    no NaN or infinity anywhere in the result."""
    arms = [ArmSummary(0, 0, 0)]
    for n in (1, 2, 3):
        for k in range(n + 1):
            arms.append(ArmSummary(n, k, k))  # 0/1 values: also a valid mean metric
            arms.append(ArmSummary(n, 5.0 * k, 25.0 * k, 2.0 * k, 4.0 * k, 10.0 * k))
    for a in arms:
        for b in arms:
            if a.has_covariate != b.has_covariate:
                continue
            for kind in ("proportion", "mean"):
                if kind == "proportion" and a.sum > a.n:
                    continue
                if kind == "proportion" and b.sum > b.n:
                    continue
                c = compare(a, b, kind=kind, sequential=True, covariate_kind="mean")  # type: ignore[arg-type]
                json.dumps(c.to_dict(), allow_nan=False)
                assert 0 <= c.chance_to_beat_control <= 1
                for e in (c.absolute, c.relative, c.sequential_absolute, c.cuped_relative):
                    if e is not None and e.p_value is not None:
                        assert 0 <= e.p_value <= 1 and e.reason is None


def test_extreme_sums_give_no_test_rather_than_an_error() -> None:
    """Tiny and huge (but valid) sums: no exception, no NaN; a test or a reason."""
    values = (1e-300, 1e-150, 1e-20, 1.0, 1e20, 1e45)
    seen_reasons = set()
    for n in (2, 3, 10**9):
        for x in values:
            for y in values:
                control = ArmSummary(n, x, x * x * n, y, y * y * n, x * y * n)
                treatment = ArmSummary(n, y, y * y, x, x * x, x * y)
                c = compare(control, treatment, sequential=True)
                json.dumps(c.to_dict(), allow_nan=False)
                for e in (c.absolute, c.relative, c.cuped_absolute, c.sequential_relative):
                    assert e is not None
                    assert (e.p_value is None) == (e.reason is not None)
                    if e.reason:
                        seen_reasons.add(e.reason.split(",")[0])
    assert "the sums are too extreme for floating-point arithmetic" in seen_reasons
    with pytest.raises(InvalidValue, match="too large"):
        compare(ArmSummary(10, 1e101, 1e101), ArmSummary(10, 1, 1))


@pytest.mark.parametrize(
    ("control", "treatment", "options", "field"),
    [
        (ArmSummary(-1, 0, 0), ArmSummary(10, 1, 1), {}, "control.n"),
        (ArmSummary(10, 1, 1), ArmSummary(2.5, 1, 1), {}, "treatment.n"),  # type: ignore[arg-type]
        (ArmSummary(10, 11, 11), ArmSummary(10, 1, 1), {"kind": "proportion"}, "control.sum"),
        (ArmSummary(10, -1, 1), ArmSummary(10, 1, 1), {"kind": "proportion"}, "control.sum"),
        (ArmSummary(10, 100, 5), ArmSummary(10, 1, 1), {}, "control.sum_sq"),
        (ArmSummary(10, 1, -1), ArmSummary(10, 1, 1), {}, "control.sum_sq"),
        (ArmSummary(10, math.nan, 1), ArmSummary(10, 1, 1), {}, "control.sum"),
        (ArmSummary(10, 1, 1), ArmSummary(10, math.inf, 1), {}, "treatment.sum"),
        (ArmSummary(0, 1, 1), ArmSummary(10, 1, 1), {}, "control.sum"),
        (ArmSummary(10, 1, 1, cov_sum=2), ArmSummary(10, 1, 1), {}, "control.cov_sum"),
        (
            ArmSummary(10, 1, 1, 2, 2, 1),
            ArmSummary(10, 1, 1),
            {},
            "treatment.cov_sum",
        ),
        (
            ArmSummary(10, 5, 5, 5, 5, 5),
            ArmSummary(10, 5, 5, 5, 5, 40),
            {},
            "treatment.cross",
        ),
        (ArmSummary(10, 1, 1), ArmSummary(10, 1, 1), {"alpha": 0}, "alpha"),
        (ArmSummary(10, 1, 1), ArmSummary(10, 1, 1), {"alpha": 1.5}, "alpha"),
        (ArmSummary(10, 1, 1), ArmSummary(10, 1, 1), {"kind": "ratio"}, "kind"),
        (ArmSummary(10, 1, 1), ArmSummary(10, 1, 1), {"covariate_kind": "x"}, "covariate_kind"),
        (
            ArmSummary(10, 1, 1),
            ArmSummary(10, 1, 1),
            {"sequential_tuning": 0},
            "sequential_tuning",
        ),
    ],
)
def test_invalid_input_is_refused_with_the_field(
    control: ArmSummary, treatment: ArmSummary, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        compare(control, treatment, **options)
    assert err.value.field == field
    assert err.value.message.startswith(field.split(".")[0])


@pytest.mark.parametrize(
    ("observed", "shares", "field"),
    [
        ([10, 10], [0.5, 0.4], "shares"),
        ([10, 10], [0.5, 0.5, 0.0], "shares"),
        ([10, 10], [1.0, 0.0], "shares[1]"),
        ([10, -1], [0.5, 0.5], "observed[1]"),
        ([10], [1.0], "observed"),
        ([10, 10], [0.5, math.nan], "shares[1]"),
    ],
)
def test_srm_invalid_input(observed: list[int], shares: list[float], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        srm_check(observed, shares)
    assert err.value.field == field


def test_srm_threshold() -> None:
    result = srm_check([5000, 5230], [0.5, 0.5])
    assert 0.01 < result.p_value < 0.05 and not result.mismatch
    assert srm_check([5000, 5230], [0.5, 0.5], threshold=0.05).mismatch
    assert srm_check([0, 0], [0.5, 0.5]).to_dict()["p_value"] == 1.0
