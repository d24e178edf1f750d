"""A campaign's results: every treatment arm against the control for every metric, from the
per-arm summary statistics the engine computed (tandem.campaigns.metrics), with the statistics of
tandem.campaigns.stats; the sample-ratio-mismatch check; and the same per bucket of a trait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tandem.campaigns.metrics import ALL_BUCKET, MIN_BUCKET, Buckets
from tandem.campaigns.stats import (
    ArmSummary,
    Comparison,
    Kind,
    SrmResult,
    compare,
    srm_check,
)

if TYPE_CHECKING:
    from tandem.campaigns.definition import CampaignDefinition, MetricSpec

Sums = dict[str, dict[tuple[str, str], ArmSummary]]
"""metric -> (arm, bucket) -> summary."""


@dataclass(frozen=True)
class ArmFigures:
    arm: str
    n: int
    mean: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"arm": self.arm, "n": self.n, "mean": self.mean}


@dataclass(frozen=True)
class MetricResult:
    """One metric: each arm's n and mean, and each treatment arm against the control."""

    metric: str
    kind: str
    event: str
    window_days: int
    covariate: str | None
    arms: list[ArmFigures]
    comparisons: dict[str, Comparison]
    """treatment arm -> comparison with the control (left out when an arm is empty)."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "kind": self.kind,
            "event": self.event,
            "window_days": self.window_days,
            "covariate": self.covariate,
            "arms": [a.to_dict() for a in self.arms],
            "comparisons": [{"arm": arm, **c.to_dict()} for arm, c in self.comparisons.items()],
            "notes": self.notes,
        }


@dataclass(frozen=True)
class BucketResult:
    bucket: str
    n: int
    metrics: list[MetricResult]
    small: bool = False
    """Fewer customers than the smallest bucket worth reading (its figures are noisy)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "n": self.n,
            "small": self.small,
            "metrics": [x.to_dict() for x in self.metrics],
        }


@dataclass(frozen=True)
class CampaignResults:
    campaign: str
    control: str
    treatments: list[str]
    assigned: dict[str, int]
    shares: dict[str, float]
    srm: SrmResult
    metrics: list[MetricResult]
    exposures: dict[str, dict[str, int]]
    sequential: bool
    exposed_only: bool
    alpha: float
    by: Buckets | None = None
    buckets: list[BucketResult] = field(default_factory=list)

    def metric(self, name: str) -> MetricResult:
        return next(x for x in self.metrics if x.metric == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "analysis": "exposed only" if self.exposed_only else "intention to treat",
            "control": self.control,
            "treatments": self.treatments,
            "assigned": self.assigned,
            "shares": self.shares,
            "srm": self.srm.to_dict(),
            "exposures": self.exposures,
            "sequential": self.sequential,
            "alpha": self.alpha,
            "metrics": [x.to_dict() for x in self.metrics],
            "by": self.by.to_dict() if self.by is not None else None,
            "buckets": [b.to_dict() for b in self.buckets],
        }


def _covariate_label(metric: MetricSpec) -> str | None:
    c = metric.covariate
    if c is None:
        return None
    if c.pre_period_days is not None:
        return f"same metric over {c.pre_period_days} days before assignment"
    return f"trait {c.trait}"


def metric_result(
    d: CampaignDefinition,
    metric: MetricSpec,
    sums: dict[tuple[str, str], ArmSummary],
    bucket: str,
    *,
    sequential: bool,
    alpha: float,
) -> MetricResult:
    kind: Kind = "proportion" if metric.kind == "conversion" else "mean"
    c = metric.covariate
    cov_kind: Kind = (
        "proportion"
        if c is not None and c.pre_period_days is not None and metric.kind == "conversion"
        else "mean"
    )
    arms: list[ArmFigures] = []
    for arm in d.arms:
        s = sums.get((arm.name, bucket))
        n = s.n if s is not None else 0
        arms.append(ArmFigures(arm.name, n, (s.sum / s.n) if s is not None and s.n else None))
    control = sums.get((d.control.name, bucket))
    comparisons: dict[str, Comparison] = {}
    notes: list[str] = []
    for arm in d.treatments:
        treated = sums.get((arm.name, bucket))
        if control is None or treated is None or control.n < 2 or treated.n < 2:
            notes.append(f"{arm.name}: too few customers in an arm to compare (fewer than 2)")
            continue
        comparisons[arm.name] = compare(
            control,
            treated,
            kind=kind,
            alpha=alpha,
            sequential=sequential,
            covariate_kind=cov_kind if c is not None else None,
        )
    return MetricResult(
        metric.name,
        metric.kind,
        metric.event,
        metric.window_days,
        _covariate_label(metric),
        arms,
        comparisons,
        notes,
    )


def build_results(
    d: CampaignDefinition,
    counts: dict[str, int],
    overall: Sums,
    split: tuple[Sums, Buckets | None] | None,
    *,
    exposures: dict[str, dict[str, int]],
    sequential: bool,
    exposed_only: bool,
    alpha: float,
    min_bucket: int = MIN_BUCKET,
) -> CampaignResults:
    shares = {a.name: a.share for a in d.arms}
    total_share = sum(shares.values())
    srm = srm_check([counts[a.name] for a in d.arms], [a.share / total_share for a in d.arms])
    metrics = [
        metric_result(d, x, overall[x.name], ALL_BUCKET, sequential=sequential, alpha=alpha)
        for x in d.metrics
    ]
    buckets: list[BucketResult] = []
    by = None
    if split is not None:
        sums, by = split
        labels = by.labels if by is not None else []
        first = sums[d.metrics[0].name]
        for label in labels:
            n = sum(s.n for (arm, b), s in first.items() if b == label)
            if n == 0:
                continue
            buckets.append(
                BucketResult(
                    label,
                    n,
                    [
                        metric_result(d, x, sums[x.name], label, sequential=sequential, alpha=alpha)
                        for x in d.metrics
                    ],
                    small=n < min_bucket,
                )
            )
    return CampaignResults(
        d.name,
        d.control.name,
        [a.name for a in d.treatments],
        counts,
        shares,
        srm,
        metrics,
        exposures,
        sequential,
        exposed_only,
        alpha,
        by,
        buckets,
    )
