"""Campaign definitions: the YAML/JSON schema, parsed with pydantic v2 and checked with errors that
name the field (and the file line) concerned.

```yaml
name: spring-winback          # slug: [a-z0-9][a-z0-9_-]{0,63}
description: Win back lapsed buyers
channel: email                # web app email social chat service crm pos other
owners: [marketing, it]       # owning functions
segment: lapsed-buyers        # the target: a segment, OR  customers: [cus_..., ...]
start: 2026-03-01T00:00:00Z
end: 2026-03-31T00:00:00Z
salt: spring-winback          # optional; the name when left out
arms:                         # shares sum to 1; exactly one control
  - {name: control, share: 0.2, control: true}
  - {name: offer, share: 0.8}
metrics:                      # conversion | count | sum (sum needs `property`)
  - {name: purchased, kind: conversion, event: Order Completed, window_days: 14}
  - {name: orders, kind: count, event: Order Completed, covariate: {pre_period_days: 28}}
  - {name: revenue, kind: sum, event: Order Completed, property: revenue,
     covariate: {trait: monetary}}
exposures:                    # events recorded as exposures (properties.campaign == name)
  - {kind: sent, event: Email Sent}
```

This module checks what the definition says by itself; what it says about the workspace (owning
functions, the segment, traits, events) is checked by `Campaigns.create`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tandem.errors import InvalidInput, Problem
from tandem.times import as_utc
from tandem.yamlfile import PathPart, YamlDocument

SLUG_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CHANNELS: Final[tuple[str, ...]] = (
    "web",
    "app",
    "email",
    "social",
    "chat",
    "service",
    "crm",
    "pos",
    "other",
)
METRIC_KINDS: Final[tuple[str, ...]] = ("conversion", "count", "sum")
SHARE_TOLERANCE: Final = 1e-6
"""How far the arms' shares may sum from 1 (0.333333 x 3 is accepted)."""
MAX_CUSTOMERS: Final = 100_000
"""The most customers an explicit `customers:` list may name (larger targets: a segment)."""

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Channel = Literal["web", "app", "email", "social", "chat", "service", "crm", "pos", "other"]
MetricKind = Literal["conversion", "count", "sum"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArmSpec(_Model):
    name: Slug
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    control: bool = False


class CovariateSpec(_Model):
    """CUPED covariate: the same metric over `pre_period_days` before assignment, or a numeric
    profile column / golden trait."""

    pre_period_days: Annotated[int, Field(gt=0, le=3650)] | None = None
    trait: Text | None = None


class MetricSpec(_Model):
    name: Slug
    kind: MetricKind
    event: EventName
    property: Text | None = None
    window_days: Annotated[int, Field(gt=0, le=3650)] = 14
    covariate: CovariateSpec | None = None


class ExposureSpec(_Model):
    kind: Slug
    event: EventName


class CampaignDefinition(_Model):
    name: Slug
    description: Annotated[str, Field(max_length=2000)] = ""
    channel: Channel
    owners: Annotated[list[Text], Field(min_length=1, max_length=20)]
    segment: Slug | None = None
    customers: Annotated[list[Text], Field(min_length=1, max_length=MAX_CUSTOMERS)] | None = None
    start: datetime
    end: datetime
    salt: Text | None = None
    arms: Annotated[list[ArmSpec], Field(min_length=2, max_length=20)]
    metrics: Annotated[list[MetricSpec], Field(min_length=1, max_length=20)]
    exposures: Annotated[list[ExposureSpec], Field(max_length=20)] = Field(default_factory=list)

    @property
    def control(self) -> ArmSpec:
        return next(a for a in self.arms if a.control)

    @property
    def treatments(self) -> list[ArmSpec]:
        return [a for a in self.arms if not a.control]

    @property
    def effective_salt(self) -> str:
        return self.salt if self.salt is not None else self.name

    def metric(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        from tandem.errors import NotFound

        raise NotFound(
            f"campaign {self.name} has no metric `{name}` "
            f"(metrics: {', '.join(m.name for m in self.metrics)})",
            field="metric",
        )

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["start"] = as_utc(self.start).isoformat()
        data["end"] = as_utc(self.end).isoformat()
        data["salt"] = self.effective_salt
        return data


EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)


def time_problem(value: datetime) -> str | None:
    """Why a campaign time (start, end, an assignment time) is out of range, or None. Windows
    and pre-periods of up to 10 years are added to it in the engine, so it stays well inside
    what a timestamp holds."""
    moment = as_utc(value)
    if not EARLIEST <= moment < LATEST:
        return f"{moment.isoformat()} is not between 1970 and 2200"
    return None


def cumulative_shares(arms: list[ArmSpec]) -> list[float]:
    """The upper border of each arm on [0, 1): running sums of the shares in the listed order,
    the last one exactly 1.0 (so a sum of 0.9999999 leaves nobody out)."""
    out: list[float] = []
    total = 0.0
    for arm in arms:
        total += arm.share
        out.append(total)
    out[-1] = 1.0
    return out


def _problems(d: CampaignDefinition) -> list[tuple[str, list[PathPart]]]:
    """What pydantic's types cannot say: cross-field rules, each with its field path."""
    out: list[tuple[str, list[PathPart]]] = []
    total = math.fsum(a.share for a in d.arms)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        out.append((f"the arms' shares sum to {total:g}; they must sum to 1", ["arms"]))
    controls = [i for i, a in enumerate(d.arms) if a.control]
    if len(controls) != 1:
        out.append(
            (
                f"exactly one arm must be the control (`control: true`); {len(controls)} are",
                ["arms"],
            )
        )
    seen: set[str] = set()
    for i, a in enumerate(d.arms):
        if a.name in seen:
            out.append((f"arm name `{a.name}` is used twice", ["arms", i, "name"]))
        seen.add(a.name)
    seen = set()
    for i, m in enumerate(d.metrics):
        if m.name in seen:
            out.append((f"metric name `{m.name}` is used twice", ["metrics", i, "name"]))
        seen.add(m.name)
        if m.kind == "sum" and m.property is None:
            out.append(
                (
                    "a sum metric needs `property`: the numeric event property it adds up",
                    ["metrics", i, "property"],
                )
            )
        if m.kind != "sum" and m.property is not None:
            out.append(
                (f"only a sum metric takes a `property` (this one is {m.kind})", ["metrics", i])
            )
        c = m.covariate
        if c is not None and (c.pre_period_days is None) == (c.trait is None):
            out.append(
                (
                    "a covariate is either `pre_period_days: N` or `trait: NAME`, one of them",
                    ["metrics", i, "covariate"],
                )
            )
    events: dict[str, int] = {}
    for i, e in enumerate(d.exposures):
        if e.event in events:
            out.append((f"exposure event `{e.event}` is listed twice", ["exposures", i, "event"]))
        events[e.event] = i
    for label in ("start", "end"):
        problem = time_problem(getattr(d, label))
        if problem:
            out.append((problem, [label]))
    if as_utc(d.start) >= as_utc(d.end):
        out.append(("the end must be after the start", ["end"]))
    if (d.segment is None) == (d.customers is None):
        out.append(
            (
                "give the target as `segment: NAME` or as `customers: [...]`, one of them",
                ["segment"],
            )
        )
    if d.customers is not None:
        counts = Counter(d.customers)
        dup = sorted(c for c, n in counts.items() if n > 1)
        if dup:
            out.append((f"customers repeat: {', '.join(dup[:5])}", ["customers"]))
    return out


def parse_definition(
    data: Mapping[str, Any] | YamlDocument, *, source: str = "definition"
) -> CampaignDefinition:
    """Validate a definition (a mapping from JSON, or a parsed YAML document, whose errors then
    name lines). InvalidInput lists every problem with its field; nothing is changed."""
    doc = data if isinstance(data, YamlDocument) else YamlDocument(dict(data), None, source)
    if doc.data is not None and not isinstance(doc.data, Mapping):
        raise InvalidInput(
            f"{doc.source} is not a campaign definition",
            [Problem("expected a mapping of `field: value` lines")],
            source=doc.source,
        )
    definition = doc.validate(CampaignDefinition, what="campaign definition")
    problems = [doc.problem(message, path) for message, path in _problems(definition)]
    if problems:
        raise InvalidInput(
            f"{doc.source} is not a valid campaign definition ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was changed",
            problems,
            source=doc.source,
        )
    return definition.model_copy(
        update={"start": as_utc(definition.start), "end": as_utc(definition.end)}
    )


def read_definition(path: Path) -> CampaignDefinition:
    """A definition file: YAML, or JSON (a JSON document is YAML too, and keeps its lines)."""
    doc = YamlDocument.read(path, what="campaign definition")
    return parse_definition(doc)


def definition_from_text(text: str, *, source: str = "definition") -> CampaignDefinition:
    return parse_definition(YamlDocument.parse(text, source=source))
