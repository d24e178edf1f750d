"""Campaign metrics in the query engine: each assigned customer's outcome (and CUPED covariate),
and per arm (and per trait bucket) the summary statistics the lift statistics need.

An outcome counts when its event time is in [assigned_at, assigned_at + window_days):

- conversion: 1 when the customer has the event in the window, else 0;
- count: the number of such events;
- sum: the sum of the event property (a number, or a text holding one; other values count 0).

A customer without any such event counts 0: the analysis is intention-to-treat over everyone
assigned. A pre-period covariate is the same metric over [assigned_at - pre_period_days,
assigned_at); a trait covariate is a numeric profile column or golden trait (a customer without
it has covariate 0 in the sums; `outcomes` shows it as null).

Everything is one Ibis expression run by DuckDB: every metric of a campaign is computed in one
pass over the events (one left join of assignments with the events of the metrics' event names,
one GROUP BY customer, one GROUP BY arm). Only the per-arm sums come to Python.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from tandem.campaigns.definition import CampaignDefinition, MetricSpec
from tandem.campaigns.stats import ArmSummary
from tandem.customers.behaviour import customer_events
from tandem.customers.jsontext import json_extract_string, json_value
from tandem.errors import InvalidValue
from tandem.lake.schema import ASSIGNMENTS, EXPOSURES, PROFILES

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped]

    from tandem.lake.store import Lake

NUMERIC_COLUMNS: Final[tuple[str, ...]] = (
    "orders",
    "revenue",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "records",
    "events",
)
"""Profile columns that are numbers (a covariate or a numeric `by` trait)."""
TEXT_COLUMNS: Final[tuple[str, ...]] = ("rfm",)
BOOL_COLUMNS: Final[tuple[str, ...]] = ("marketing_opt_in",)
NONE_BUCKET: Final = "(none)"
OTHER_BUCKET: Final = "(other)"
ALL_BUCKET: Final = "all"
MIN_BUCKET: Final = 30
"""A `by` value with fewer customers goes to "(other)"; a smaller bucket is flagged small."""


def json_text(doc: ir.StringValue, key: str) -> ir.StringValue:
    """The value of `key` in the JSON object text `doc`, as text (null when missing or not a
    scalar). The key reaches the engine as an ordinary bound string literal: json_value's path
    argument. (json_extract_string's path is rewritten by sqlglot into a `->>` path that it
    does not escape, so a key with a quote would break the SQL; it only ever gets "$" here.)"""
    if not key:
        raise InvalidValue("a property or trait name cannot be empty", field="name")
    return json_extract_string(json_value(doc, json_path(key)), "$")


def json_path(key: str) -> str:
    """A JSON path naming one key, quoted (a key with dots or spaces stays one key)."""
    return "$." + json.dumps(key, ensure_ascii=False)


def finite_number(text: ir.StringValue) -> ir.FloatingValue:
    """Text as a number; null when it is not one, or is infinite or NaN ("Infinity", "1e999")."""
    import ibis

    value = text.try_cast("float64")
    return ibis.ifelse(value.isinf() | value.isnan(), ibis.null("float64"), value)


def property_number(properties: ir.StringValue, name: str) -> ir.FloatingValue:
    """Event property `name` as a number (null when missing or not a finite number)."""
    return finite_number(json_text(properties, name))


def assignments_of(lake: Lake, campaign: str) -> ir.Table:
    """The campaign's assignments, one row per customer: `assign` and `import_assignments`
    write only customers not assigned yet, and hold the lake's lock while they read what is
    there and write (tandem.lake.locks), so two writers cannot both add a customer."""
    raw = lake.raw(ASSIGNMENTS)
    return raw.filter(raw.campaign == campaign)


def exposed_customers(lake: Lake, campaign: str) -> ir.Table:
    raw = lake.raw(EXPOSURES)
    return raw.filter(raw.campaign == campaign).select("customer_id").distinct()


def trait_value(lake: Lake, trait: str) -> tuple[ir.Table, str]:
    """(profiles with `customer_id` and `_trait`, kind) for a profile column or golden trait;
    kind is "number", "text" or "bool"."""
    profiles = lake.raw(PROFILES)
    if trait in NUMERIC_COLUMNS:
        return profiles.select("customer_id", _trait=profiles[trait].cast("float64")), "number"
    if trait in TEXT_COLUMNS:
        return profiles.select("customer_id", _trait=profiles[trait]), "text"
    if trait in BOOL_COLUMNS:
        return profiles.select("customer_id", _trait=profiles[trait].cast("string")), "text"
    if not trait.strip():
        raise InvalidValue("name a trait", field="trait")
    text = json_text(profiles.traits, trait)
    values = profiles.select("customer_id", _trait=text)
    seen = values.filter(values._trait.notnull())
    counts = seen.aggregate(
        n=seen.count(), numbers=seen._trait.try_cast("float64").count()
    ).to_pyarrow()
    n, numbers = counts["n"][0].as_py() or 0, counts["numbers"][0].as_py() or 0
    if n == 0:
        known = ", ".join(NUMERIC_COLUMNS + TEXT_COLUMNS + BOOL_COLUMNS)
        raise InvalidValue(
            f"no profile has a trait `{trait}`",
            field="trait",
            detail=f"use a profile column ({known}) or a golden trait that profiles carry",
        )
    if numbers == n:
        return values.mutate(_trait=finite_number(values._trait)), "number"
    return values, "text"


def _window(
    t: ir.Table, start: ir.TimestampValue, days: int, *, before: bool = False
) -> ir.BooleanValue:
    import ibis

    span = ibis.interval(days=days)
    if before:
        return (t.timestamp >= start - span) & (t.timestamp < start)
    return (t.timestamp >= start) & (t.timestamp < start + span)


def _metric_columns(
    j: ir.Table, metric: MetricSpec, i: int, *, pre_days: int | None = None
) -> dict[str, ir.Value]:
    """Per-customer aggregates of metric `i` over its window (or its pre-period)."""
    import ibis

    if pre_days is None:
        inside = (j.event == metric.event) & _window(j, j.assigned_at, metric.window_days)
        name = f"_v{i}"
    else:
        inside = (j.event == metric.event) & _window(j, j.assigned_at, pre_days, before=True)
        name = f"_p{i}"
    if metric.kind == "sum":
        assert metric.property is not None
        amount = property_number(j.properties, metric.property).fill_null(0.0)
        return {name: ibis.ifelse(inside, amount, 0.0).sum()}
    count = ibis.ifelse(inside, 1, 0).sum()
    return {name: count}


def _finish(value: ir.Value, metric: MetricSpec) -> ir.FloatingValue:
    """A customer's aggregate as the metric's value (0 when the customer had no events)."""
    v = value.cast("float64").fill_null(0.0)
    if metric.kind == "conversion":
        import ibis

        return ibis.ifelse(v > 0, 1.0, 0.0)
    return v


def outcome_frame(
    lake: Lake,
    definition: CampaignDefinition,
    metrics: Sequence[MetricSpec],
    *,
    exposed_only: bool = False,
) -> ir.Table:
    """One row per assigned customer: customer_id, arm, assigned_at, and per metric `i` of
    `metrics` its value `v{i}` and covariate `c{i}` (null without a covariate)."""
    import ibis

    assigned = assignments_of(lake, definition.name).select("customer_id", "arm", "assigned_at")
    if exposed_only:
        assigned = assigned.semi_join(exposed_customers(lake, definition.name), "customer_id")
    names = sorted({m.event for m in metrics})
    events = customer_events(lake)
    events = events.filter(events.event.isin(names))
    span = _time_span(lake, assigned, metrics)
    if span is not None:  # constants the scan can use to skip files and row groups
        events = events.filter(events.timestamp >= span[0], events.timestamp < span[1])
    events = events.select("customer_id", "event", "timestamp", "properties")
    # every assigned customer once, with their events in the span (none: one row of nulls,
    # which counts 0): one join, then one GROUP BY customer (no second join back to the arms)
    keys = assigned.select(_cid="customer_id", _arm="arm", assigned_at="assigned_at")
    j = keys.left_join(events, keys._cid == events.customer_id).select(
        customer_id=keys._cid,
        arm=keys._arm,
        assigned_at=keys.assigned_at,
        event=events.event,
        timestamp=events.timestamp,
        properties=events.properties,
    )
    # one aggregate per distinct (event, window, property): a conversion and a count of the
    # same event and window share their count
    aggregates: dict[str, ir.Value] = {}
    shared: dict[tuple[Any, ...], str] = {}
    alias: dict[str, str] = {}

    def add(metric: MetricSpec, i: int, pre_days: int | None) -> None:
        ((name, value),) = _metric_columns(j, metric, i, pre_days=pre_days).items()
        key = (
            metric.event,
            metric.property if metric.kind == "sum" else None,
            metric.window_days if pre_days is None else -pre_days,
        )
        alias[name] = shared.setdefault(key, name)
        if alias[name] == name:
            aggregates[name] = value

    for i, m in enumerate(metrics):
        add(m, i, None)
        if m.covariate is not None and m.covariate.pre_period_days is not None:
            add(m, i, m.covariate.pre_period_days)
    # assignments hold one row per customer (assignments_of), so arm and assigned_at are the
    # customer's own
    frame = j.group_by("customer_id").aggregate(
        arm=j.arm.arbitrary(), assigned_at=j.assigned_at.arbitrary(), **aggregates
    )
    columns: dict[str, ir.Value] = {}
    traits: dict[str, str] = {}
    for i, m in enumerate(metrics):
        columns[f"v{i}"] = _finish(frame[alias[f"_v{i}"]], m)
        c = m.covariate
        if c is not None and c.pre_period_days is not None:
            columns[f"c{i}"] = _finish(frame[alias[f"_p{i}"]], m)
        elif c is not None and c.trait is not None:
            traits[f"c{i}"] = c.trait
            columns[f"c{i}"] = ibis.null("float64")  # filled below
        else:
            columns[f"c{i}"] = ibis.null("float64")
    out = frame.select("customer_id", "arm", "assigned_at", **columns)
    for column, trait in traits.items():
        values, kind = trait_value(lake, trait)
        if kind != "number":
            raise InvalidValue(
                f"covariate trait `{trait}` is not a number in the profiles",
                field="covariate.trait",
            )
        values = values.select(_tcid="customer_id", _t=values._trait)
        joined = out.left_join(values, out.customer_id == values._tcid)
        out = joined.mutate(**{column: joined._t}).drop("_tcid", "_t")
    return out


def _time_span(
    lake: Lake, assigned: ir.Table, metrics: Sequence[MetricSpec]
) -> tuple[datetime, datetime] | None:
    """[earliest assignment - longest pre-period, latest assignment + longest window): no event
    outside it counts (None when nobody is assigned)."""
    bounds = lake.con.to_pyarrow(
        assigned.aggregate(lo=assigned.assigned_at.min(), hi=assigned.assigned_at.max())
    ).to_pylist()[0]
    if bounds["lo"] is None:
        return None
    before = max(
        (
            x.covariate.pre_period_days
            for x in metrics
            if x.covariate and x.covariate.pre_period_days
        ),
        default=0,
    )
    after = max(x.window_days for x in metrics)
    return bounds["lo"] - timedelta(days=before), bounds["hi"] + timedelta(days=after)


@dataclass(frozen=True)
class Buckets:
    """How a `by` trait splits the customers: the bucket expression's labels in order."""

    trait: str
    kind: str
    labels: list[str]
    merged: list[str]
    """Values merged into OTHER_BUCKET because each had too few customers."""
    edges: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trait": self.trait,
            "kind": self.kind,
            "labels": self.labels,
            "merged": self.merged,
            "edges": self.edges,
        }


def _label(low: float | None, high: float | None) -> str:
    if low is None:
        return f"< {high:g}"
    if high is None:
        return f">= {low:g}"
    return f"[{low:g}, {high:g})"


def bucketed(
    lake: Lake,
    frame: ir.Table,
    trait: str,
    *,
    bins: int = 4,
    edges: Sequence[float] | None = None,
    min_bucket: int = MIN_BUCKET,
) -> tuple[ir.Table, Buckets]:
    """`frame` with a `bucket` column from `trait`: numbers by quantile (`bins`) or by given
    `edges`; text by value, values with fewer than `min_bucket` customers merged into
    "(other)"; customers without the trait in "(none)"."""
    import ibis

    values, kind = trait_value(lake, trait)
    values = values.select(_bcid="customer_id", _trait="_trait")
    joined = frame.left_join(values, frame.customer_id == values._bcid).drop("_bcid")
    x = joined._trait
    if kind == "number":
        if edges is None:
            if not 2 <= bins <= 20:
                raise InvalidValue("bins must be between 2 and 20", field="bins")
            probs = [k / bins for k in range(1, bins)]
            quantiles = joined.aggregate(
                **{f"q{k}": x.quantile(p) for k, p in enumerate(probs)}
            ).to_pyarrow()
            cuts = [quantiles[f"q{k}"][0].as_py() for k in range(len(probs))]
            found = sorted({float(c) for c in cuts if c is not None and math.isfinite(c)})
        else:
            found = sorted({float(e) for e in edges})
            if not all(math.isfinite(e) for e in found):
                raise InvalidValue("bucket edges must be finite numbers", field="edges")
            if not found:
                raise InvalidValue("give at least one edge", field="edges")
        labels = [_label(None, found[0]) if found else "all"]
        cases = []
        for k, edge in enumerate(found):
            cases.append((x < edge, labels[-1]))
            labels.append(_label(edge, found[k + 1] if k + 1 < len(found) else None))
        bucket = ibis.cases(*cases, else_=labels[-1]) if cases else ibis.literal(labels[-1])
        bucket = ibis.ifelse(x.isnull(), NONE_BUCKET, bucket)
        out = joined.mutate(bucket=bucket).drop("_trait")
        return out, Buckets(trait, kind, [*labels, NONE_BUCKET], [], found)
    counts = (
        joined.filter(x.notnull())
        .group_by(_value=x)
        .aggregate(n=ibis._.count())
        .order_by([ibis.desc("n"), "_value"])
        .limit(1001)
        .to_pyarrow()
        .to_pylist()
    )
    kept = [r["_value"] for r in counts if r["n"] >= min_bucket][:50]
    merged = [r["_value"] for r in counts if r["_value"] not in set(kept)]
    bucket = ibis.ifelse(
        x.isnull(),
        NONE_BUCKET,
        ibis.ifelse(x.isin(kept), x, OTHER_BUCKET) if kept else OTHER_BUCKET,
    )
    out = joined.mutate(bucket=bucket).drop("_trait")
    labels = [*kept, *([OTHER_BUCKET] if merged else []), NONE_BUCKET]
    return out, Buckets(trait, kind, labels, merged)


def summary_sums(frame: ir.Table, metrics: Sequence[MetricSpec], *, by_bucket: bool) -> ir.Table:
    """Per arm (and bucket): n and, per metric, sum, sum of squares and the covariate's sum, sum
    of squares and cross-product. The covariate is 0 where null."""
    import ibis

    sums: dict[str, ir.Value] = {"n": ibis._.count()}
    for i, m in enumerate(metrics):
        v = frame[f"v{i}"]
        sums[f"s{i}"] = v.sum()
        sums[f"ss{i}"] = (v * v).sum()
        if m.covariate is not None:
            c = frame[f"c{i}"].fill_null(0.0)
            sums[f"cs{i}"] = c.sum()
            sums[f"css{i}"] = (c * c).sum()
            sums[f"x{i}"] = (v * c).sum()
    keys = ["arm", "bucket"] if by_bucket else ["arm"]
    return frame.group_by(keys).aggregate(**sums)


def arm_summaries(
    rows: list[dict[str, Any]], metrics: Sequence[MetricSpec], *, by_bucket: bool
) -> dict[str, dict[tuple[str, str], ArmSummary]]:
    """metric name -> (arm, bucket) -> ArmSummary, from `summary_sums` rows."""
    out: dict[str, dict[tuple[str, str], ArmSummary]] = {m.name: {} for m in metrics}
    for row in rows:
        key = (row["arm"], row["bucket"] if by_bucket else ALL_BUCKET)
        for i, m in enumerate(metrics):
            cov = m.covariate is not None
            out[m.name][key] = ArmSummary(
                n=int(row["n"]),
                sum=float(row[f"s{i}"] or 0.0),
                sum_sq=float(row[f"ss{i}"] or 0.0),
                cov_sum=float(row[f"cs{i}"] or 0.0) if cov else None,
                cov_sum_sq=float(row[f"css{i}"] or 0.0) if cov else None,
                cross=float(row[f"x{i}"] or 0.0) if cov else None,
            )
    return out
