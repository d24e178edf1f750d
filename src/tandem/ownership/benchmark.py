"""The company's ownership set beside the Forrester State of Digital Business 2014 figures.

A function counts as *responsible* for a capability when it holds R or A on it (the survey did not
distinguish doing from answering for). Figures are matched to the company by function kind, so a
company that renamed "Marketing" to "Brand & Growth" is still compared on its marketing function.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel

from tandem.ownership.catalogue import VISION_CAPABILITY
from tandem.ownership.model import OwnershipModel

COMPARED_KINDS = ("marketing", "it")
KIND_LABEL = {"executive": "CEO / executive", "marketing": "marketing (CMO)", "it": "IT (CIO)"}


class BenchmarkSource(BaseModel):
    title: str
    publisher: str
    survey: str
    author: str
    quoted_in: str


class BenchmarkFigures(BaseModel):
    source: BenchmarkSource
    vision_setter: dict[str, int]
    responsible: dict[str, dict[str, int]]
    digital_team_responsibilities: list[str]
    organisation: dict[str, int]


@lru_cache(maxsize=1)
def figures() -> BenchmarkFigures:
    """The survey figures shipped with Tandem."""
    text = files("tandem.ownership").joinpath("data/forrester_2014.yaml").read_text("utf-8")
    return BenchmarkFigures.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class Side:
    """One function kind on one capability: the company's roles beside the survey share."""

    kind: str
    functions: list[str]
    roles: str
    survey_percent: int | None

    @property
    def responsible(self) -> bool:
        return "R" in self.roles or "A" in self.roles


@dataclass(frozen=True)
class CapabilityComparison:
    capability: str
    name: str
    in_catalogue: bool
    sides: dict[str, Side]
    digital_team_area: bool
    notes: list[str]


@dataclass(frozen=True)
class VisionComparison:
    setters: list[dict[str, str]]
    survey: dict[str, int]
    note: str


@dataclass(frozen=True)
class OrganisationFigure:
    key: str
    label: str
    survey_percent: int
    company: bool | None
    note: str


@dataclass(frozen=True)
class Benchmark:
    source: dict[str, str]
    vision: VisionComparison
    capabilities: list[CapabilityComparison]
    organisation: list[OrganisationFigure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row, cap in zip(data["capabilities"], self.capabilities, strict=True):
            for kind, side in cap.sides.items():
                row["sides"][kind]["responsible"] = side.responsible
        return data


def compare(model: OwnershipModel) -> Benchmark:
    figs = figures()
    caps = _capability_rows(model, figs)
    return Benchmark(
        source=figs.source.model_dump(),
        vision=_vision(model, figs),
        capabilities=caps,
        organisation=_organisation(model, figs),
    )


def _side(model: OwnershipModel, cap_key: str, kind: str, percent: int | None) -> Side:
    cap = model.capability(cap_key)
    fns = [fn for fn in (cap.owners if cap else {}) if model.kind_of(fn) == kind]
    letters = set("".join(cap.owners[fn] for fn in fns)) if cap else set()
    return Side(kind, fns, "".join(r for r in "RACI" if r in letters), percent)


def _capability_rows(model: OwnershipModel, figs: BenchmarkFigures) -> list[CapabilityComparison]:
    keys: list[str] = []
    for per_kind in figs.responsible.values():
        keys.extend(k for k in per_kind if k not in keys)
    rows = []
    for key in keys:
        cap = model.capability(key)
        sides = {
            kind: _side(model, key, kind, figs.responsible.get(kind, {}).get(key))
            for kind in COMPARED_KINDS
        }
        notes = []
        for side in sides.values():
            if side.survey_percent is None:
                continue
            label = KIND_LABEL[side.kind]
            pct = side.survey_percent
            if side.responsible:
                usual = (
                    f"like most firms ({pct}%" if pct >= 50 else f"unlike most firms (only {pct}%"
                )
                notes.append(f"{label} is responsible here, {usual} do so)")
            else:
                usual = (
                    f"unlike most firms ({pct}%" if pct >= 50 else f"like most firms (only {pct}%"
                )
                notes.append(f"{label} is not responsible here, {usual} make it responsible)")
        rows.append(
            CapabilityComparison(
                capability=key,
                name=cap.name if cap else key,
                in_catalogue=cap is not None,
                sides=sides,
                digital_team_area=key in figs.digital_team_responsibilities,
                notes=notes if cap else ["not in this company's catalogue"],
            )
        )
    return rows


def _vision(model: OwnershipModel, figs: BenchmarkFigures) -> VisionComparison:
    cap = model.capability(VISION_CAPABILITY)
    setters = []
    if cap:
        for fn in sorted(cap.holders("A")) or sorted(cap.holders("R")):
            setters.append(
                {"function": fn, "kind": model.kind_of(fn) or "", "roles": cap.owners[fn]}
            )
    kinds = {s["kind"] for s in setters}
    survey = figs.vision_setter
    if not setters:
        note = (
            "nobody sets the digital vision here; in the survey the CEO does at "
            f"{survey['executive']}% of firms, the CMO at {survey['marketing']}%, the CIO at "
            f"{survey['it']}%"
        )
    else:
        parts = [
            f"{KIND_LABEL[k]} sets it here, as at {survey[k]}% of firms"
            for k in ("executive", "marketing", "it")
            if k in kinds
        ]
        others = sorted(kinds - set(survey))
        if others:
            who = f"also {', '.join(others)}" if parts else f"{', '.join(others)} sets it here"
            parts.append(f"{who}, which the survey does not break out")
        note = "; ".join(parts)
    return VisionComparison(setters, dict(survey), note)


def has_digital_hub(model: OwnershipModel) -> bool:
    """A digital team or CDO that exists in fact: a governance body, or a digital function with
    people or with R or A on some capability (being consulted or informed is not a hub)."""
    if model.bodies_of_kind("digital_team"):
        return True
    owning = {fn for cap in model.capabilities for fn in cap.holders("RA")}
    return any(f.kind == "digital" and (f.people or f.key in owning) for f in model.functions)


def _organisation(model: OwnershipModel, figs: BenchmarkFigures) -> list[OrganisationFigure]:
    org = figs.organisation
    employees = model.company.employees if model.company else None
    mid_size = employees is not None and 1000 < employees < 10000
    survey_note = "measured by the digital pulse survey"
    rows = [
        OrganisationFigure(
            "dedicated_digital_group",
            "Have a dedicated digital group",
            org["dedicated_digital_group"],
            has_digital_hub(model),
            "from the digital team function and governance bodies",
        ),
        OrganisationFigure(
            "right_people_define_strategy",
            "Believe the right people define digital strategy"
            + (" (firms of 1,000-10,000 employees)" if mid_size else ""),
            org[
                "right_people_define_strategy_1000_to_10000_employees"
                if mid_size
                else "right_people_define_strategy"
            ],
            None,
            survey_note,
        ),
        OrganisationFigure(
            "claim_digital_strategy",
            "Claim to have a digital strategy",
            org["claim_digital_strategy"],
            None,
            survey_note,
        ),
        OrganisationFigure(
            "trust_digital_skills",
            "Trust their digital skills and capabilities",
            org["trust_digital_skills"],
            None,
            survey_note,
        ),
        OrganisationFigure(
            "digital_units_and_it_work_well",
            "See digital units and IT working well together",
            org["digital_units_and_it_work_well"],
            None,
            survey_note,
        ),
        OrganisationFigure(
            "marketing_and_digital_units_work_well",
            "See marketing and digital units working well together",
            org["marketing_and_digital_units_work_well"],
            None,
            survey_note,
        ),
    ]
    if model.company is None or model.company.digital_revenue_team is not True:
        rows += [
            OrganisationFigure(
                "without_digital_revenue_team_it_and_marketing_work_well",
                "Without a digital revenue team: see IT and marketing working well together",
                org["without_digital_revenue_team_it_and_marketing_work_well"],
                None,
                survey_note,
            ),
            OrganisationFigure(
                "without_digital_revenue_team_it_and_marketing_not_together",
                "Without a digital revenue team: IT and marketing don't work together at all",
                org["without_digital_revenue_team_it_and_marketing_not_together"],
                None,
                survey_note,
            ),
        ]
    return rows
