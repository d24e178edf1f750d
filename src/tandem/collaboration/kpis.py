"""KPI measures and progress: what a KPI's number comes from, and how far it is from its target.

A KPI is a target on a *measure*. The measure is written as text:

- `manual`: a number the team reports (`tandem initiative report`), kept as a dated history;
- `survey:NAME:QUESTION`: the share agreeing with an agreement question of a survey, in percent;
- `segment:NAME`: a segment's size at its latest evaluation;
- `campaign:NAME:METRIC`: a campaign metric's lift, the relative lift in percent of the campaign's
  first treatment arm against its control (intention to treat, fixed horizon, not CUPED-adjusted:
  the `relative` estimate of `tandem campaign results`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal

from tandem.errors import InvalidValue, NotFound, TandemError

if TYPE_CHECKING:
    from tandem.workspace import Workspace

Direction = Literal["at_least", "at_most"]
DIRECTIONS: Final[tuple[str, ...]] = ("at_least", "at_most")
MANUAL: Final = "manual"


class NoValueYet(InvalidValue):
    """The measure exists but has no figure to show yet (no answers, or hidden for anonymity)."""


@dataclass(frozen=True)
class Measure:
    """A parsed measure: its kind and the parts after the kind (`survey:pulse:q1` -> pulse, q1)."""

    kind: str
    parts: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return ":".join((self.kind, *self.parts))

    @property
    def manual(self) -> bool:
        return self.kind == MANUAL


Reader = Callable[["Workspace", Measure], float]


@dataclass
class MeasureKind:
    kind: str
    syntax: str
    description: str
    parts: tuple[str, ...]
    reader: Reader | None = None
    unavailable: str = ""

    def read(self, ws: Workspace, measure: Measure) -> float:
        if self.reader is None:
            raise InvalidValue(
                f"{self.description} KPIs ({self.syntax}) are {self.unavailable}; "
                "use a manual KPI until then",
                field="measure",
            )
        return self.reader(ws, measure)


MEASURE_KINDS: dict[str, MeasureKind] = {
    MANUAL: MeasureKind(MANUAL, "manual", "manually reported number", ()),
    "survey": MeasureKind(
        "survey",
        "survey:NAME:QUESTION",
        "survey question agreement (percent agreeing)",
        ("survey", "question"),
    ),
    "segment": MeasureKind(
        "segment",
        "segment:NAME",
        "segment size",
        ("segment",),
    ),
    "campaign": MeasureKind(
        "campaign",
        "campaign:NAME:METRIC",
        "campaign metric lift",
        ("campaign", "metric"),
    ),
}


def _survey_agreement(ws: Workspace, measure: Measure) -> float:
    """Percent agreeing with an agreement question, over every respondent of the survey."""
    name, question = measure.parts
    result = ws.surveys.results(name).question(question)
    if result.kind != "agreement":
        raise InvalidValue(
            f"question `{question}` of survey {name} is a {result.kind.replace('_', ' ')} "
            "question; a survey KPI needs an agreement question",
            field="measure",
        )
    cell = result.overall
    if cell.agree is None:
        why = "too few respondents to show (anonymity)" if cell.suppressed else "no answers yet"
        raise NoValueYet(f"survey {name}, question `{question}`: {why}", field="measure")
    return round(cell.agree.share * 100, 2)


MEASURE_KINDS["survey"].reader = _survey_agreement


def _segment_size(ws: Workspace, measure: Measure) -> float:
    """The segment's size at its latest evaluation."""
    (name,) = measure.parts
    info = ws.segments.get(name, history=False)
    if info.latest is None:
        raise NoValueYet(f"segment {name} has not been evaluated yet", field="measure")
    return float(info.latest.size)


MEASURE_KINDS["segment"].reader = _segment_size


def _campaign_lift(ws: Workspace, measure: Measure) -> float:
    """Relative lift in percent of the campaign's first treatment arm against its control on
    the metric: the `relative` estimate of the campaign's results (intention to treat, fixed
    horizon, without CUPED), e.g. 12.5 for +12.5%."""
    name, metric = measure.parts
    definition = ws.campaigns.definition(name)
    definition.metric(metric)  # an unknown metric is NotFound, naming the metrics
    try:
        results = ws.campaigns.results(name)
    except NotFound as exc:  # no assignments yet
        raise NoValueYet(f"campaign {name}: {exc.message}", field="measure") from None
    arm = definition.treatments[0].name
    comparison = results.metric(metric).comparisons.get(arm)
    if comparison is None or not comparison.relative.defined:
        why = comparison.relative.reason if comparison is not None else "too few customers"
        raise NoValueYet(f"campaign {name}, metric {metric}: no lift yet ({why})", field="measure")
    return round(comparison.relative.estimate * 100, 2)


MEASURE_KINDS["campaign"].reader = _campaign_lift


def parse_measure(text: str) -> Measure:
    """`manual`, `survey:NAME:QUESTION`, `segment:NAME` or `campaign:NAME:METRIC`."""
    raw = text.strip()
    kind, *parts = [p.strip() for p in raw.split(":")] if raw else [""]
    spec = MEASURE_KINDS.get(kind)
    if spec is None:
        known = ", ".join(k.syntax for k in MEASURE_KINDS.values())
        raise InvalidValue(
            f"unknown KPI measure {raw!r}", field="measure", detail=f"use one of: {known}"
        )
    if len(parts) != len(spec.parts) or not all(parts):
        raise InvalidValue(
            f"KPI measure {raw!r} does not read {spec.syntax}",
            field="measure",
            detail=f"a {spec.description} KPI names its {' and '.join(spec.parts) or 'nothing'}",
        )
    return Measure(kind, tuple(parts))


def check_readable(ws: Workspace, measure: Measure) -> float | None:
    """Read a Tandem measure once, so a KPI on a missing survey or question, or on a measure not
    available yet, is refused; a measure with no figure yet is fine."""
    if measure.manual:
        return None
    try:
        return MEASURE_KINDS[measure.kind].read(ws, measure)
    except NoValueYet:
        return None


def read_measure(ws: Workspace, measure: Measure) -> float:
    return MEASURE_KINDS[measure.kind].read(ws, measure)


@dataclass(frozen=True)
class Progress:
    """Where a KPI stands against its target."""

    current: float | None
    as_of: date | None
    target: float
    direction: str
    baseline: float | None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.current is None:
            return None
        if self.direction == "at_least":
            return self.current >= self.target
        return self.current <= self.target

    @property
    def share(self) -> float | None:
        """How much of the way from baseline to target has been covered (0 to 1, clipped)."""
        if self.current is None or self.baseline is None:
            return None
        if self.met:
            return 1.0
        span = self.target - self.baseline
        if span == 0:
            return None
        return max(0.0, min(1.0, (self.current - self.baseline) / span))

    @property
    def status(self) -> str:
        if self.current is None:
            return self.note or "no value yet"
        if self.met:
            return "met"
        share = self.share
        return "not met" if share is None else f"{share:.0%} of the way"

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "target": self.target,
            "direction": self.direction,
            "baseline": self.baseline,
            "met": self.met,
            "share": self.share,
            "status": self.status,
        }


def manual_progress(
    target: float,
    direction: str,
    baseline: float | None,
    history: Sequence[tuple[date, float]],
) -> Progress:
    """Progress of a manual KPI: the latest value against the target, from the baseline.

    Without an explicit baseline the first reported value is the baseline (once there are two).
    """
    if not history:
        return Progress(None, None, target, direction, baseline)
    as_of, current = history[-1]
    if baseline is None and len(history) > 1:
        baseline = history[0][1]
    return Progress(current, as_of, target, direction, baseline)


def measured_progress(
    ws: Workspace, measure: Measure, target: float, direction: str, baseline: float | None
) -> Progress:
    """Progress of a Tandem measure, read now; a measure that cannot be read says why."""
    try:
        value = read_measure(ws, measure)
    except TandemError as exc:
        return Progress(None, None, target, direction, baseline, note=exc.message)
    return Progress(value, date.today(), target, direction, baseline)
