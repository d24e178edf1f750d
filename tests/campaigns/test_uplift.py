"""Uplift models and their Qini / uplift curves (tandem.campaigns.uplift)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tandem.campaigns.uplift import (
    auuc,
    cross_fitted_uplift,
    evaluate_scores,
    feature_matrix,
    fit_frame,
    qini_coefficient,
    qini_curve,
    uplift_curve,
)
from tandem.errors import InvalidValue

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "sklift_reference.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: c["name"])
def test_curves_and_coefficients_equal_scikit_uplift(case: dict) -> None:
    y, t, s = np.array(case["y"]), np.array(case["treatment"]), np.array(case["score"])
    x, q = qini_curve(y, t, s)
    np.testing.assert_allclose(x, case["qini_curve"]["x"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(q, case["qini_curve"]["y"], rtol=0, atol=1e-9)
    x, u = uplift_curve(y, t, s)
    np.testing.assert_allclose(x, case["uplift_curve"]["x"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(u, case["uplift_curve"]["y"], rtol=0, atol=1e-9)
    assert qini_coefficient(y, t, s) == pytest.approx(case["qini_auc_score"], abs=1e-9)
    assert auuc(y, t, s) == pytest.approx(case["uplift_auc_score"], abs=1e-9)


def test_qini_curve_by_hand() -> None:
    # scores 0.9 (T, y=1), 0.8 (C, y=0), 0.8 (T, y=0) tie, 0.1 (C, y=1)
    y = [1, 0, 0, 1]
    t = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.8, 0.1]
    x, q = qini_curve(y, t, s)
    # k=1: 1 - 0; k=3 (the tie is one step): Y_T=1, N_T=2, Y_C=0 -> 1; k=4: 1 - 1 * 2/2 = 0
    assert x.tolist() == [0, 1, 3, 4]
    assert q.tolist() == [0.0, 1.0, 1.0, 0.0]
    x, u = uplift_curve(y, t, s)
    # k=3: (1/2 - 0/1) * 3 = 1.5; k=4: (1/2 - 1/2) * 4 = 0
    assert u.tolist() == [0.0, 1.0, 1.5, 0.0]


def test_continuous_outcomes_use_the_same_curve() -> None:
    y = [10.0, 0.0, 4.0, 2.0]
    t = [1, 0, 1, 0]
    s = [4, 2, 3, 1]
    _, q = qini_curve(y, t, s)
    # k=1: 10 (no control yet); k=2: 14; k=3: 14 - 0 * 2/1 = 14; k=4: 14 - 2 * 2/2 = 12
    assert q.tolist() == [0.0, 10.0, 14.0, 14.0, 12.0]
    # treated by outcome (highest first), then control by outcome (lowest first): the
    # perfect ranking, coefficient 1; the reverse ranking is below 0
    assert qini_coefficient(y, t, s) == pytest.approx(1.0)
    assert qini_coefficient(y, t, [-v for v in s]) < 0
    assert qini_coefficient(y, t, s) == pytest.approx(1.0)
    assert auuc(y, t, s) == pytest.approx(1.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidValue, match="same length"):
        qini_curve([1, 0], [1], [0.1, 0.2])
    with pytest.raises(InvalidValue, match="0 \\(control\\) or 1"):
        qini_curve([1, 0], [1, 2], [0.1, 0.2])
    with pytest.raises(InvalidValue, match="finite"):
        qini_curve([1, float("nan")], [1, 0], [0.1, 0.2])


def synthetic(n: int, *, effect: float, seed: int) -> pd.DataFrame:
    """Customers with two numeric features and a segment; the treatment adds `effect` to the
    conversion probability of segment `a` customers only (and nothing for `b`, `c`)."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["a", "b", "c"], size=n, p=[0.3, 0.4, 0.3])
    age = rng.normal(40, 10, n)
    orders = rng.poisson(2, n).astype(float)
    orders[rng.random(n) < 0.1] = np.nan  # missing values are routed by the trees
    treated = (rng.random(n) < 0.5).astype(int)
    base = 0.08 + 0.02 * (segment == "c")
    p = base + effect * treated * (segment == "a")
    value = (rng.random(n) < p).astype(float)
    return pd.DataFrame(
        {"treated": treated, "value": value, "age": age, "orders": orders, "segment": segment}
    )


@pytest.mark.parametrize("learner", ["t", "x"])
def test_model_ranks_the_truly_affected_segment_first(learner: str) -> None:
    frame = synthetic(6000, effect=0.25, seed=1)
    scores, names = fit_frame(
        frame, numeric=["age", "orders"], categorical=["segment"], learner=learner, seed=3
    )
    assert names[:2] == ["age", "orders"]
    assert sorted(names[2:]) == ["segment=a", "segment=b", "segment=c"]
    affected = (frame["segment"] == "a").to_numpy()
    top = np.argsort(-scores, kind="mergesort")[: int(affected.sum())]
    # the highest-scored 30% are (nearly) all from the affected segment
    assert affected[top].mean() > 0.9
    assert scores[affected].mean() - scores[~affected].mean() == pytest.approx(0.25, abs=0.06)
    y, t = frame["value"].to_numpy(), frame["treated"].to_numpy()
    qini, area, curve, deciles = evaluate_scores(y, t, scores)
    # normalised by the perfect ranking of these noisy 0/1 outcomes, which no model reaches:
    # 0.21 here, against about 0 without an effect (below)
    assert qini > 0.15
    assert area > 0.05
    assert curve[0] == (0.0, 0.0) and curve[-1][0] == 1.0 and len(curve) == 101
    # the top three deciles carry the effect: observed uplift there, about none below
    assert np.mean([d["observed_uplift"] for d in deciles[:3]]) > 0.15
    assert abs(np.mean([d["observed_uplift"] for d in deciles[4:]])) < 0.05


@pytest.mark.parametrize("learner", ["t", "x"])
def test_no_effect_gives_a_qini_coefficient_near_zero(learner: str) -> None:
    frame = synthetic(6000, effect=0.0, seed=2)
    scores, _ = fit_frame(
        frame, numeric=["age", "orders"], categorical=["segment"], learner=learner, seed=3
    )
    y, t = frame["value"].to_numpy(), frame["treated"].to_numpy()
    assert abs(qini_coefficient(y, t, scores)) < 0.05
    assert abs(auuc(y, t, scores)) < 0.05
    # and the estimated effects are small everywhere
    assert np.abs(scores).mean() < 0.05


def test_cross_fitting_is_seeded_and_out_of_sample() -> None:
    frame = synthetic(1000, effect=0.2, seed=4)
    X, _ = feature_matrix(frame, ["age", "orders"], ["segment"])
    t, y = frame["treated"].to_numpy(), frame["value"].to_numpy()
    a = cross_fitted_uplift(X, t, y, learner="x", folds=4, seed=5)
    b = cross_fitted_uplift(X, t, y, learner="x", folds=4, seed=5)
    c = cross_fitted_uplift(X, t, y, learner="x", folds=4, seed=6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)  # other folds, other models
    # changing one customer's outcome changes no score of its own fold's rows... but does
    # change scores elsewhere: a row's score never depends on its own outcome.
    flipped = y.copy()
    flipped[0] = 1 - flipped[0]
    d = cross_fitted_uplift(X, t, flipped, learner="x", folds=4, seed=5)
    assert d[0] == a[0]


def test_feature_matrix_caps_levels_and_marks_missing() -> None:
    frame = pd.DataFrame(
        {
            "n": ["1", None, "3.5"] + ["2"] * 27,
            "city": [f"c{i}" for i in range(25)] + [None] * 5,
        }
    )
    X, names = feature_matrix(frame, ["n"], ["city"])
    assert names[0] == "n"
    assert np.isnan(X[1, 0]) and X[2, 0] == 3.5
    assert "city=(missing)" in names and "city=other" in names
    assert len(names) == 1 + 20 + 1
    assert X[:, 1:].sum(axis=1).tolist() == [1.0] * 30  # one level per row


def test_too_few_customers_or_unknown_learner_are_refused() -> None:
    frame = synthetic(30, effect=0.1, seed=1)
    X, _ = feature_matrix(frame, ["age"], [])
    t, y = np.array([1] * 9 + [0] * 21), frame["value"].to_numpy()
    with pytest.raises(
        InvalidValue, match="at least 10 customers in each arm; the smaller arm has 9"
    ):
        cross_fitted_uplift(X, t, y, folds=5)
    with pytest.raises(InvalidValue, match="unknown learner 's'"):
        cross_fitted_uplift(X, t, y, learner="s", folds=2)
    with pytest.raises(InvalidValue, match="at least 2 folds"):
        cross_fitted_uplift(X, t, y, folds=1)
