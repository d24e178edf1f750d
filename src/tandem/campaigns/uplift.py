"""Uplift models: which customers a campaign moves most, learnt from its randomised arms.

A campaign's results say how much a treatment arm moved a metric on average; an uplift model
estimates the effect *per customer* (the conditional average treatment effect, CATE) from the
customer's profile, so marketing can target the customers the campaign actually moves.

Two meta-learners on scikit-learn's gradient-boosted trees:

- ``t`` (two-model): one outcome model on the control arm, one on the treatment arm; the
  uplift is the difference of their predictions.
- ``x`` (X-learner, Künzel et al. 2019, PNAS 116(10)): the two outcome models above, then each
  arm's *imputed* effects (treated: outcome minus the control model's prediction; control: the
  treatment model's prediction minus the outcome) are learnt by two effect models, blended with
  the propensity. Assignment is randomised by Tandem (or imported from a tool that randomised),
  so the propensity is the known treated share, not a fitted model.

Scores are cross-fitted (k folds): every customer's score comes from models that never saw that
customer, so the Qini curve, the Qini coefficient and the AUUC computed from them are out of
sample. The curves follow Radcliffe (2007) and match scikit-uplift's ``qini_curve`` /
``qini_auc_score`` / ``uplift_auc_score`` (tests/campaigns/data/sklift_reference.json).

This is the one place where per-customer rows come to Python (a model needs them): at most
``max_rows`` customers (200,000 by default), a seeded sample chosen in the engine when the
campaign has more. The result says when it sampled.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tandem.errors import InvalidValue, NotFound

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.workspace import Workspace

LEARNERS = ("t", "x")
NUMERIC_FEATURES: tuple[str, ...] = (
    "orders",
    "revenue",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "events",
    "records",
    "marketing_opt_in",
)
"""Numeric profile columns that may be chosen as features (the opt-in flag as 0/1). None is
used by default: profiles are rebuilt at every resolve, so after a campaign their behaviour
columns include what the campaign caused (orders, revenue, recency), and a model fed with them
would learn the outcome instead of who responds."""
BEHAVIOUR_DAYS = 365
"""Behaviour features look this far back from each customer's assignment."""
BEHAVIOUR_FEATURES = (
    "events_before",
    "days_since_last_event",
    "metric_events_before",
    "days_since_last_metric_event",
)
"""Per customer, from the events before their assignment only (within `BEHAVIOUR_DAYS`): all
events, days since the last one, the metric's event and days since its last occurrence; for a
sum metric also the sum of its property (`metric_sum_before`)."""
DEFAULT_MAX_ROWS = 200_000
MAX_LEVELS = 20
"""A categorical trait keeps its most frequent levels; the rest become one `other` level."""
CURVE_POINTS = 101


# -- curves --------------------------------------------------------------------------------------
def _arrays(
    y: Sequence[float] | np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_ = np.asarray(y, dtype=np.float64)
    t_ = np.asarray(treatment).astype(np.int64)
    s_ = np.asarray(score, dtype=np.float64)
    if not (len(y_) == len(t_) == len(s_)):
        raise InvalidValue(
            f"outcomes ({len(y_)}), treatment flags ({len(t_)}) and scores ({len(s_)}) must have "
            "the same length",
            field="score",
        )
    if not np.isin(t_, (0, 1)).all():
        raise InvalidValue("treatment flags must be 0 (control) or 1 (treated)", field="treatment")
    if not (np.isfinite(y_).all() and np.isfinite(s_).all()):
        raise InvalidValue("outcomes and scores must be finite numbers", field="score")
    return y_, t_, s_


def _cumulative(
    y: np.ndarray, t: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customers sorted by score (highest first), cumulated at each distinct score: targeted
    count, treated count, control count, treated outcome sum, control outcome sum. Ties are one
    step (the order inside a tie is not the model's)."""
    order = np.argsort(score, kind="mergesort")[::-1]
    y, t, score = y[order], t[order], score[order]
    ends = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    n_all = (ends + 1).astype(np.float64)
    n_t = np.cumsum(t, dtype=np.float64)[ends]
    n_c = n_all - n_t
    y_t = np.cumsum(y * t)[ends]
    y_c = np.cumsum(y * (1 - t))[ends]
    return n_all, n_t, n_c, y_t, y_c


def _from_origin(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.size == 0 or x[0] != 0 or v[0] != 0:
        return np.r_[0.0, x], np.r_[0.0, v]
    return x, v


def qini_curve(
    y: Sequence[float] | np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Radcliffe's Qini curve: targeting the k highest-scored customers, the incremental
    outcome Y_T(k) - Y_C(k) * N_T(k) / N_C(k) (treated outcome minus the control outcome scaled
    to the treated count). Returns (k, incremental outcome), starting at (0, 0)."""
    y_, t_, s_ = _arrays(y, treatment, score)
    n_all, n_t, n_c, y_t, y_c = _cumulative(y_, t_, s_)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    return _from_origin(n_all, y_t - y_c * ratio)


def uplift_curve(
    y: Sequence[float] | np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The uplift (gain) curve: targeting the k highest-scored customers, (treated mean -
    control mean among them) x k. Returns (k, value), starting at (0, 0)."""
    y_, t_, s_ = _arrays(y, treatment, score)
    n_all, n_t, n_c, y_t, y_c = _cumulative(y_, t_, s_)
    mean_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t != 0)
    mean_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c != 0)
    return _from_origin(n_all, (mean_t - mean_c) * n_all)


def _area_above_diagonal(x: np.ndarray, v: np.ndarray) -> float:
    """Area under (x, v) minus the straight line from (0, 0) to its last point."""
    area = float(np.sum((x[1:] - x[:-1]) * (v[1:] + v[:-1]) / 2.0))
    return area - float(x[-1] * v[-1] / 2.0)


def qini_coefficient(
    y: Sequence[float] | np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
) -> float:
    """The normalised Qini coefficient: the area between the Qini curve and random targeting,
    divided by the same area for the perfect ranking (treated customers by outcome, highest
    first, then control customers by outcome, lowest first: negative effects allowed). 1 is a
    perfect ranking, 0 no better than random, below 0 worse. NaN when the perfect ranking has
    no area (no outcome at all). scikit-uplift's `qini_auc_score` for binary outcomes."""
    y_, t_, s_ = _arrays(y, treatment, score)
    actual = _area_above_diagonal(*qini_curve(y_, t_, s_))
    perfect = _area_above_diagonal(*qini_curve(y_, t_, y_ * t_ - y_ * (1 - t_)))
    return actual / perfect if perfect else float("nan")


def auuc(
    y: Sequence[float] | np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    score: Sequence[float] | np.ndarray,
) -> float:
    """The normalised area under the uplift curve: its area above random targeting divided by
    the perfect ranking's. For a 0/1 outcome the perfect ranking is scikit-uplift's
    (`uplift_auc_score`: treated responders and control non-responders first); for other
    outcomes it is the Qini coefficient's perfect ranking."""
    y_, t_, s_ = _arrays(y, treatment, score)
    if np.isin(y_, (0.0, 1.0)).all():
        control_responders = np.sum((y_ == 1) & (t_ == 0))
        treated_non_responders = np.sum((y_ == 0) & (t_ == 1))
        summand = y_ if control_responders > treated_non_responders else t_.astype(np.float64)
        best = 2.0 * (y_ == t_) + summand
    else:
        best = y_ * t_ - y_ * (1 - t_)
    actual = _area_above_diagonal(*uplift_curve(y_, t_, s_))
    perfect = _area_above_diagonal(*uplift_curve(y_, t_, best))
    return actual / perfect if perfect else float("nan")


# -- models ----------------------------------------------------------------------------------
def _regressor(seed: int, rows: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]

    # Shallow, slow-learning trees with large leaves: uplift is a small difference of two
    # noisy predictions, so the base models must not chase noise. No early stopping, so a fit
    # is a deterministic function of its data.
    return HistGradientBoostingRegressor(
        max_iter=100,
        learning_rate=0.05,
        max_depth=3,
        # 20 customers a leaf (fewer for small arms, so a split is possible), more for large ones
        min_samples_leaf=max(5, min(20, rows // 10), rows // 200),
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


class _Fitted:
    """A regressor fitted on (X, y). A column missing in every training row (a customer group
    with no event before assignment) is set to 0 in training and prediction alike: it carries
    no information there, and the trees' binning cannot take a column without any value."""

    def __init__(self, seed: int, X: np.ndarray, y: np.ndarray):
        self.empty = np.isnan(X).all(axis=0)
        self.model = _regressor(seed, len(y)).fit(self._prepared(X), y)

    def _prepared(self, X: np.ndarray) -> np.ndarray:
        if not self.empty.any():
            return X
        out = X.copy()
        out[:, self.empty] = 0.0
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(self._prepared(X)), dtype=np.float64)


def _fit_predict(
    X: np.ndarray, t: np.ndarray, y: np.ndarray, X_new: np.ndarray, learner: str, seed: int
) -> np.ndarray:
    """Fit `learner` on (X, t, y) and return the estimated effect for the rows of X_new."""
    treated, control = t == 1, t == 0
    mu0 = _Fitted(seed, X[control], y[control])
    mu1 = _Fitted(seed, X[treated], y[treated])
    if learner == "t":
        return np.asarray(mu1.predict(X_new) - mu0.predict(X_new), dtype=np.float64)
    # X-learner: imputed individual effects, one effect model per arm, blended by propensity.
    d1 = y[treated] - mu0.predict(X[treated])
    d0 = mu1.predict(X[control]) - y[control]
    tau1 = _Fitted(seed, X[treated], d1)
    tau0 = _Fitted(seed, X[control], d0)
    e = float(treated.mean())
    # Künzel's g(x) = e(x): weight the control-arm model by the treated share (the effect model
    # learnt from the larger arm's imputations gets the larger weight).
    return np.asarray(e * tau0.predict(X_new) + (1 - e) * tau1.predict(X_new), dtype=np.float64)


def cross_fitted_uplift(
    X: np.ndarray,
    treatment: Sequence[int] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    learner: str = "x",
    folds: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Each row's estimated treatment effect from models fitted on the other folds (stratified
    by arm, shuffled with `seed`)."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    if learner not in LEARNERS:
        raise InvalidValue(
            f"unknown learner {learner!r}; choose one of: {', '.join(LEARNERS)}", field="learner"
        )
    if folds < 2:
        raise InvalidValue("cross-fitting needs at least 2 folds", field="folds")
    X_ = np.asarray(X, dtype=np.float64)
    t_ = np.asarray(treatment).astype(np.int64)
    y_ = np.asarray(y, dtype=np.float64)
    smallest = int(min((t_ == 1).sum(), (t_ == 0).sum()))
    if smallest < 2 * folds:
        raise InvalidValue(
            f"an uplift model with {folds} folds needs at least {2 * folds} customers in each "
            f"arm; the smaller arm has {smallest}",
            field="folds",
        )
    out = np.empty(len(y_), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One OpenMP thread per fit: the trees' threads spin-wait, and on a busy machine (the
    # server's workers, other jobs) that made fits 10-30x slower than single-threaded ones.
    with threadpool_limits(limits=1, user_api="openmp"):
        for train, test in splitter.split(X_, t_):
            out[test] = _fit_predict(X_[train], t_[train], y_[train], X_[test], learner, seed)
    return out


# -- features ------------------------------------------------------------------------------------
Columns = Mapping[str, Sequence[Any] | np.ndarray]
"""Named columns of equal length (a dict of lists or arrays; a pandas DataFrame works too)."""


def _numbers(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Floats, NaN for a missing value or text that is not a number."""
    try:
        return np.asarray(values, dtype=np.float64)  # None becomes NaN
    except (TypeError, ValueError):
        pass
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def feature_matrix(
    frame: Columns, numeric: Sequence[str], categorical: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """The model's input: numeric columns as floats (missing stays NaN: the trees route it) and
    one 0/1 column per level of each categorical column (its `MAX_LEVELS` most frequent levels,
    the rest as `other`, missing as `(missing)`). Returns (matrix, column names)."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    for name in numeric:
        columns.append(_numbers(np.asarray(frame[name], dtype=object)))
        names.append(name)
    for name in categorical:
        values = [
            "(missing)" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in np.asarray(frame[name], dtype=object)
        ]
        counts = Counter(values)
        ranked = sorted(counts, key=lambda v: (-counts[v], v))
        keep = ranked[:MAX_LEVELS]
        if len(ranked) > MAX_LEVELS:
            kept = set(keep)
            values = [v if v in kept else "other" for v in values]
            keep.append("other")
        text = np.asarray(values, dtype=object)
        for level in keep:
            columns.append((text == level).astype(np.float64))
            names.append(f"{name}={level}")
    if not columns:
        raise InvalidValue("the uplift model needs at least one feature", field="features")
    return np.column_stack(columns), names


# -- results -------------------------------------------------------------------------------------
@dataclass
class UpliftResult:
    """An uplift model's out-of-sample evaluation and its per-customer scores."""

    campaign: str
    metric: str
    arm: str
    control: str
    learner: str
    folds: int
    seed: int
    customers: int
    """Customers the model used (treated + control)."""
    total: int
    """Customers in the two arms; more than `customers` when a sample was taken."""
    treated: int
    control_customers: int
    features: list[str]
    qini_coefficient: float
    auuc: float
    qini: list[tuple[float, float]]
    """Qini curve at up to 101 points: (share of customers targeted, incremental outcome)."""
    deciles: list[dict[str, Any]]
    """Per tenth of customers by score (highest first): customers, mean score, treated and
    control means of the outcome, their difference (the observed uplift)."""
    scores: dict[str, np.ndarray] = field(repr=False)
    """customer_id, arm, value (the outcome), score: one array each, one row per customer."""

    @property
    def sampled(self) -> bool:
        return self.customers < self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "metric": self.metric,
            "arm": self.arm,
            "control": self.control,
            "learner": self.learner,
            "folds": self.folds,
            "seed": self.seed,
            "customers": self.customers,
            "total": self.total,
            "sampled": self.sampled,
            "treated": self.treated,
            "control_customers": self.control_customers,
            "features": list(self.features),
            "qini_coefficient": _number(self.qini_coefficient),
            "auuc": _number(self.auuc),
            "qini_curve": [{"share": s, "incremental": v} for s, v in self.qini],
            "deciles": self.deciles,
        }

    def write_scores(self, path: Path) -> int:
        """Write customer_id, arm, score (highest first) as CSV; returns the rows written."""
        ids, arms, scores = self.scores["customer_id"], self.scores["arm"], self.scores["score"]
        order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), str(ids[i])))
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["customer_id", "arm", "score"])
            for i in order:
                writer.writerow([ids[i], arms[i], repr(float(scores[i]))])
        return len(order)


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def evaluate_scores(
    y: np.ndarray, t: np.ndarray, score: np.ndarray
) -> tuple[float, float, list[tuple[float, float]], list[dict[str, Any]]]:
    """(Qini coefficient, AUUC, Qini curve at up to 101 points, deciles) of scores."""
    x, q = qini_curve(y, t, score)
    n = len(y)
    if len(x) > CURVE_POINTS:
        wanted = np.linspace(0, n, CURVE_POINTS)
        q = np.interp(wanted, x, q)
        x = wanted
    curve = [(round(float(k) / n, 6), float(v)) for k, v in zip(x, q, strict=True)]
    order = np.argsort(-score, kind="mergesort")
    deciles = []
    for d, chunk in enumerate(np.array_split(order, 10)):
        if not len(chunk):
            continue
        tc, yc = t[chunk], y[chunk]
        mean_t = float(yc[tc == 1].mean()) if (tc == 1).any() else None
        mean_c = float(yc[tc == 0].mean()) if (tc == 0).any() else None
        deciles.append(
            {
                "decile": d + 1,
                "customers": len(chunk),
                "mean_score": float(score[chunk].mean()),
                "treated": int((tc == 1).sum()),
                "control": int((tc == 0).sum()),
                "treated_mean": mean_t,
                "control_mean": mean_c,
                "observed_uplift": None if mean_t is None or mean_c is None else mean_t - mean_c,
            }
        )
    return qini_coefficient(y, t, score), auuc(y, t, score), curve, deciles


def fit_frame(
    frame: Columns,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    learner: str = "x",
    folds: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """Cross-fitted scores for a frame with columns `treated` (0/1), `value` (the outcome) and
    the feature columns. Returns (scores, feature names)."""
    X, names = feature_matrix(frame, numeric, categorical)
    t = np.asarray(frame["treated"], dtype=np.int64)
    y = np.asarray(frame["value"], dtype=np.float64)
    return cross_fitted_uplift(X, t, y, learner=learner, folds=folds, seed=seed), names


# -- a campaign's uplift -------------------------------------------------------------------------
def _arms(ws: Workspace, campaign: str, arm: str | None) -> tuple[str, str]:
    """(treatment arm, control arm) of a campaign."""
    d = ws.campaigns.definition(campaign)
    control = d.control.name
    treatments = [a.name for a in d.treatments]
    if arm is None:
        if len(treatments) != 1:
            raise InvalidValue(
                f"campaign {campaign!r} has {len(treatments)} treatment arms "
                f"({', '.join(treatments)}); choose one with --arm",
                field="arm",
            )
        return treatments[0], control
    if arm not in treatments:
        raise InvalidValue(
            f"campaign {campaign!r} has no treatment arm {arm!r}; its treatment arms: "
            f"{', '.join(treatments)}",
            field="arm",
        )
    return arm, control


def _sample(table: ir.Table, max_rows: int, seed: int) -> ir.Table:
    """At most `max_rows` rows, chosen by the md5 of (seed, customer_id): the same seed gives
    the same customers whatever the engine's threads do."""
    import ibis

    key = (ibis.literal(f"{seed}:") + table.customer_id).hexdigest("md5")
    return table.order_by([key, table.customer_id]).limit(max_rows)


def _profile_features(
    ws: Workspace, numeric: Sequence[str], traits: Sequence[str]
) -> tuple[ir.Table, list[str], list[str]]:
    """(profiles' customer_id with one column per feature, numeric feature columns,
    categorical feature columns). A chosen trait (a profile column or a golden trait) whose
    values are all numbers is a numeric feature, otherwise a categorical one."""
    from tandem.campaigns.metrics import trait_value
    from tandem.lake.schema import PROFILES

    profiles = ws.lake.raw(PROFILES)
    table = profiles.select("customer_id", **{f"num:{n}": _numeric(profiles, n) for n in numeric})
    numeric_columns = [f"num:{n}" for n in numeric]
    categorical_columns: list[str] = []
    for name in traits:
        if name in numeric:
            continue
        try:
            values, kind = trait_value(ws.lake, name)
        except InvalidValue as exc:
            raise InvalidValue(exc.message, field="traits", detail=exc.detail) from None
        column = f"{'num' if kind == 'number' else 'cat'}:{name}"
        values = values.select(_fcid=values.customer_id, **{column: values._trait})
        if kind != "number":
            values = values.mutate(**{column: values[column].cast("string")})
        joined = table.left_join(values, table.customer_id == values._fcid)
        table = joined.drop("_fcid")
        (numeric_columns if kind == "number" else categorical_columns).append(column)
    return table, numeric_columns, categorical_columns


def _numeric(profiles: ir.Table, name: str) -> ir.Value:
    if name not in NUMERIC_FEATURES:
        raise InvalidValue(
            f"{name!r} is not a numeric profile column; choose from: {', '.join(NUMERIC_FEATURES)}",
            field="features",
        )
    column = profiles[name]
    if name == "marketing_opt_in":
        column = column.cast("int64")
    return column.cast("float64")


def _behaviour_before(ws: Workspace, outcomes: ir.Table, event: str, prop: str | None) -> ir.Table:
    """Per assigned customer (`_bcid`), aggregates of their events in the `BEHAVIOUR_DAYS`
    before their own assignment: nothing after it can leak into the features."""
    import ibis

    from tandem.campaigns.metrics import property_number
    from tandem.customers.behaviour import customer_events

    events = customer_events(ws.lake)
    keys = outcomes.select(_bcid=outcomes.customer_id, _at=outcomes.assigned_at)
    j = keys.join(events, keys._bcid == events.customer_id)
    j = j.filter(
        (j.timestamp < j._at) & (j.timestamp >= j._at - ibis.interval(days=BEHAVIOUR_DAYS))
    )
    is_metric = j.event == event
    seconds = (j._at.epoch_seconds() - j.timestamp.epoch_seconds()).cast("float64")
    aggregates: dict[str, Any] = {
        "events_before": j.count().cast("float64"),
        "days_since_last_event": seconds.min() / 86400.0,
        "metric_events_before": ibis.ifelse(is_metric, 1, 0).sum().cast("float64"),
        "days_since_last_metric_event": ibis.ifelse(is_metric, seconds, ibis.null("float64")).min()
        / 86400.0,
    }
    if prop is not None:
        amount = property_number(j.properties, prop).fill_null(0.0)
        aggregates["metric_sum_before"] = ibis.ifelse(is_metric, amount, 0.0).sum()
    return j.group_by("_bcid").aggregate(**aggregates)


def campaign_uplift(
    ws: Workspace,
    campaign: str,
    metric: str,
    *,
    arm: str | None = None,
    learner: str = "x",
    behaviour: bool = True,
    numeric: Sequence[str] = (),
    traits: Sequence[str] = (),
    max_rows: int = DEFAULT_MAX_ROWS,
    folds: int = 5,
    seed: int = 0,
) -> UpliftResult:
    """Fit `learner` on a campaign's per-customer outcomes of `metric` (treatment `arm` against
    control) and evaluate its cross-fitted scores. Features: with `behaviour`, what each
    customer did before their assignment (`BEHAVIOUR_FEATURES`, computed in the engine), the
    metric's covariate when it has one, numeric profile columns `numeric`, and `traits` (profile
    columns or golden traits; text ones one-hot encoded)."""
    if learner not in LEARNERS:
        raise InvalidValue(
            f"unknown learner {learner!r}; choose one of: {', '.join(LEARNERS)}", field="learner"
        )
    if max_rows < 20:
        raise InvalidValue("--max-rows must be at least 20", field="max_rows")
    numeric = list(dict.fromkeys(numeric))
    traits = list(dict.fromkeys(traits))
    if not (behaviour or numeric or traits):
        raise InvalidValue(
            "the uplift model needs features: keep the behaviour features or name traits",
            field="traits",
        )
    treatment_arm, control_arm = _arms(ws, campaign, arm)
    outcomes = ws.campaigns.outcomes(campaign, metric)
    outcomes = outcomes.filter(outcomes.arm.isin([treatment_arm, control_arm]))
    total = int(outcomes.count().execute())
    if total == 0:
        raise NotFound(
            f"campaign {campaign!r} has no assigned customers in arms {treatment_arm!r} and "
            f"{control_arm!r}; run `tandem campaign assign {campaign}` first",
            field="campaign",
        )
    if total > max_rows:
        outcomes = _sample(outcomes, max_rows, seed)
    features, numeric_columns, categorical_columns = _profile_features(ws, numeric, traits)
    features = features.rename(_pcid="customer_id")
    if behaviour:
        spec = ws.campaigns.definition(campaign).metric(metric)
        before = _behaviour_before(ws, outcomes, spec.event, spec.property)
        outcomes = outcomes.left_join(before, outcomes.customer_id == before._bcid).drop("_bcid")
        # no event before the assignment: counts and sums 0, "days since" missing
        outcomes = outcomes.mutate(
            **{
                c: outcomes[c].fill_null(0.0)
                for c in ("events_before", "metric_events_before", "metric_sum_before")
                if c in outcomes.columns
            }
        )
        numeric_columns = [c for c in before.columns if c != "_bcid"] + numeric_columns
    joined = outcomes.left_join(features, outcomes.customer_id == features._pcid)
    selected = joined.select(
        "customer_id",
        "arm",
        *numeric_columns,
        *categorical_columns,
        value=joined.value.cast("float64"),
        covariate=joined.covariate.cast("float64"),
    ).order_by("customer_id")
    table = selected.to_pyarrow()
    frame: dict[str, np.ndarray] = {
        name: np.asarray(table.column(name).to_pylist(), dtype=object)
        for name in table.column_names
    }
    frame["treated"] = (frame["arm"] == treatment_arm).astype(np.int64)
    frame["value"] = np.array(
        [0.0 if v is None else float(v) for v in frame["value"]], dtype=np.float64
    )
    if any(v is not None for v in frame["covariate"]):
        numeric_columns.append("covariate")
    scores, names = fit_frame(
        frame,
        numeric=numeric_columns,
        categorical=categorical_columns,
        learner=learner,
        folds=folds,
        seed=seed,
    )
    y = frame["value"]
    t = frame["treated"]
    qini, area, curve, deciles = evaluate_scores(y, t, scores)
    return UpliftResult(
        campaign=campaign,
        metric=metric,
        arm=treatment_arm,
        control=control_arm,
        learner=learner,
        folds=folds,
        seed=seed,
        customers=len(y),
        total=total,
        treated=int(t.sum()),
        control_customers=int(len(t) - t.sum()),
        features=[n.split(":", 1)[-1] for n in names],
        qini_coefficient=qini,
        auuc=area,
        qini=curve,
        deciles=deciles,
        scores={
            "customer_id": frame["customer_id"],
            "arm": frame["arm"],
            "value": y,
            "score": scores,
        },
    )
