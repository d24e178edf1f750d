"""Findings: rules that read the ownership model and say what is wrong, and why.

Each rule is a function of an `OwnershipModel` returning zero or more `Finding`s, and cites the seed
behind it. Two functions *share* a capability when both hold R or A on it; consulted or informed
is taking part, not owning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tandem.ownership.benchmark import figures, has_digital_hub
from tandem.ownership.catalogue import VISION_CAPABILITY
from tandem.ownership.citations import Citation
from tandem.ownership.model import OwnershipModel

Severity = Literal["high", "medium", "low"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
OWNING = "RA"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    title: str
    why: str
    citation: Citation
    capabilities: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "why": self.why,
            "capabilities": list(self.capabilities),
            "functions": list(self.functions),
            "citation": self.citation.to_dict(),
        }


Rule = Callable[[OwnershipModel], Iterable[Finding]]
RULES: dict[str, Rule] = {}


def rule(rule_id: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = fn
        return fn

    return register


def _names(model: OwnershipModel, keys: Iterable[str], *, capabilities: bool) -> str:
    out = []
    for key in keys:
        item = model.capability(key) if capabilities else model.function(key)
        out.append(item.name if item else key)
    if len(out) <= 1:
        return "".join(out)
    return ", ".join(out[:-1]) + " and " + out[-1]


def _s(items: list[str]) -> str:
    """The verb's -s for a single subject: "CRM answers" but "CRM and web design answer"."""
    return "s" if len(items) == 1 else ""


def _sole_kind_accountable(model: OwnershipModel, kind: str) -> list[str]:
    caps = []
    for cap in model.capabilities:
        accountable = cap.holders("A")
        if accountable and all(model.kind_of(fn) == kind for fn in accountable):
            caps.append(cap.key)
    return caps


@rule("marketing-alone-accountable")
def marketing_alone(model: OwnershipModel) -> Iterable[Finding]:
    caps = _sole_kind_accountable(model, "marketing")
    if caps:
        yield Finding(
            "marketing-alone-accountable",
            "medium",
            f"Marketing alone is accountable for {len(caps)} capabilit"
            f"{'y' if len(caps) == 1 else 'ies'}",
            f"{_names(model, caps, capabilities=True)} answer{_s(caps)} to marketing and no one "
            "else. "
            "Marketing alone pays scant attention to how digital can transform operations; "
            "make IT (or the digital team) jointly accountable.",
            Citation(
                "001",
                "leaving marketing solely in charge of digital results in a bolt-on customer "
                "engagement approach",
            ),
            capabilities=tuple(caps),
            functions=tuple(sorted(model.keys_of_kind("marketing"))),
        )


@rule("it-alone-accountable")
def it_alone(model: OwnershipModel) -> Iterable[Finding]:
    caps = _sole_kind_accountable(model, "it")
    if caps:
        yield Finding(
            "it-alone-accountable",
            "medium",
            f"IT alone is accountable for {len(caps)} capabilit{'y' if len(caps) == 1 else 'ies'}",
            f"{_names(model, caps, capabilities=True)} answer{_s(caps)} to IT and no one else. "
            "Technology without the customer side does not transform the business either; "
            "share accountability with marketing or the business.",
            Citation(
                "001",
                "Firms that invest all digital responsibilities in the CIO are also no nearer "
                "solving this challenge.",
            ),
            capabilities=tuple(caps),
            functions=tuple(sorted(model.keys_of_kind("it"))),
        )


@rule("no-executive-sponsor")
def no_executive_sponsor(model: OwnershipModel) -> Iterable[Finding]:
    cap = model.capability(VISION_CAPABILITY)
    executives = model.keys_of_kind("executive")
    if cap is not None and cap.holders(OWNING) & executives:
        return
    survey = figures().vision_setter
    if cap is None:
        detail = f"The catalogue has no `{VISION_CAPABILITY}` capability, so nobody owns it."
    else:
        setters = sorted(cap.holders("A"))
        detail = (
            f"{cap.name} is owned by {_names(model, setters, capabilities=False)}, "
            "not by the executive."
            if setters
            else f"Nobody is accountable for {cap.name}."
        )
    yield Finding(
        "no-executive-sponsor",
        "high",
        "No executive sponsor for the digital vision",
        f"{detail} Digital changes the business model, which is the CEO's call; the CEO sets "
        f"the digital vision at {survey['executive']}% of firms surveyed.",
        Citation(
            "000",
            "Ultimately, the CEO owns the strategic direction of the organisation",
        ),
        capabilities=(VISION_CAPABILITY,),
        functions=tuple(sorted(executives)),
    )


@rule("no-digital-hub")
def no_digital_hub(model: OwnershipModel) -> Iterable[Finding]:
    if has_digital_hub(model):
        return
    pct = figures().organisation["dedicated_digital_group"]
    yield Finding(
        "no-digital-hub",
        "high",
        "No digital team or Chief Digital Officer as a hub",
        "No digital team function has people or is responsible or accountable for a "
        "capability, and no digital team is among the governance bodies. Without a hub the "
        "functions do not meet on digital; "
        f"{pct}% of firms surveyed have a dedicated digital group.",
        Citation(
            "004",
            "The CDO's mission is to be the hub for meetings and synergies, to ensure that those "
            "who worked in their area start working with others.",
        ),
        functions=tuple(sorted(model.keys_of_kind("digital"))),
    )


@rule("capability-without-accountable")
def capability_without_accountable(model: OwnershipModel) -> Iterable[Finding]:
    caps = [c.key for c in model.capabilities if not c.holders("A")]
    if caps:
        yield Finding(
            "capability-without-accountable",
            "high",
            f"Nobody is accountable for {len(caps)} capabilit{'y' if len(caps) == 1 else 'ies'}",
            f"{_names(model, caps, capabilities=True)} ha{'s' if len(caps) == 1 else 've'} no "
            "function marked A. A capability nobody answers for is left to whoever cares, "
            "or to no one.",
            Citation(
                "000",
                "the whole business needs to be behind a digital transformation programme",
            ),
            capabilities=tuple(caps),
        )


ABSENT_RULES: dict[str, tuple[str, Citation]] = {
    "pr": (
        "PR & communications",
        Citation(
            "003",
            "Communications departments are a great resource in developing strategies and "
            "guidelines for interacting with customers in online communities and other social "
            "media.",
        ),
    ),
    "customer_service": (
        "customer service",
        Citation(
            "003",
            "Used properly, digital media can amplify your existing channels for customer "
            "service, so as to prevent the kind of negative customer experiences that spread "
            "quickly in social media.",
        ),
    ),
    "innovation": (
        "innovation (R&D)",
        Citation(
            "003",
            "it requires the involvement of your innovation or R&D team, so that customer input "
            "can be funneled into appropriate channels for consideration in new product "
            "development.",
        ),
    ),
    "hr": (
        "HR",
        Citation(
            "003",
            "the relevance of H.R. to digital strategy extends beyond the hiring process.",
        ),
    ),
}


@rule("function-absent")
def function_absent(model: OwnershipModel) -> Iterable[Finding]:
    used = model.functions_with_any_role()
    for kind, (label, citation) in ABSENT_RULES.items():
        keys = model.keys_of_kind(kind)
        if keys & used:
            continue
        where = (
            f"{_names(model, sorted(keys), capabilities=False)} hold"
            f"{'s' if len(keys) == 1 else ''} no role on any capability"
            if keys
            else f"the company has no {label} function"
        )
        yield Finding(
            "function-absent",
            "medium",
            f"{label[0].upper()}{label[1:]} takes no part in digital",
            f"{where[0].upper()}{where[1:]}. A digital strategy needs an interdisciplinary "
            "approach, not marketing alone.",
            citation,
            functions=tuple(sorted(keys)),
        )


def _shared(model: OwnershipModel, kind_a: str, kind_b: str) -> list[str]:
    a, b = model.keys_of_kind(kind_a), model.keys_of_kind(kind_b)
    return [c.key for c in model.capabilities if c.holders(OWNING) & a and c.holders(OWNING) & b]


def _couple_rule(
    rule_id: str,
    kinds: tuple[str, str],
    label: str,
    severity: Severity,
    advice: str,
    citation: Citation,
) -> Rule:
    def check(model: OwnershipModel) -> Iterable[Finding]:
        if _shared(model, *kinds):
            return
        keys = model.keys_of_kind(kinds[0]) | model.keys_of_kind(kinds[1])
        yield Finding(
            rule_id,
            severity,
            f"The {label} couple shares no capability",
            f"No capability has both {label.replace('-', ' and ')} responsible or accountable. "
            + advice,
            citation,
            functions=tuple(sorted(keys)),
        )

    RULES[rule_id] = check
    return check


_couple_rule(
    "marketing-it-share-nothing",
    ("marketing", "it"),
    "marketing-IT",
    "high",
    "Projects work best when marketing and IT develop and resource them together, not one "
    "in the lead and the other brought in later.",
    Citation(
        "001",
        "requiring marketing and IT to operate as a seamless unit",
    ),
)
_couple_rule(
    "hr-marketing-share-nothing",
    ("hr", "marketing"),
    "HR-marketing",
    "medium",
    "The employee experience and the customer experience are made by the same people; give "
    "the two a capability to own together (employer brand, employee digital engagement).",
    Citation(
        "004",
        "A HRD-Marketing couple seems to me to be an essential but too rare pillar of digital "
        "transformation.",
    ),
)
_couple_rule(
    "hr-it-share-nothing",
    ("hr", "it"),
    "HR-IT",
    "low",
    "Digital transformation is also the employee experience, which HR and IT build together.",
    Citation(
        "004",
        "But digital transformation is also the employee experience. Hence the existence of "
        "another old couple: the DRH-DSI couple.",
    ),
)


@rule("digital-team-single-line")
def digital_team_single_line(model: OwnershipModel) -> Iterable[Finding]:
    for body in model.bodies_of_kind("digital_team"):
        if len(body.reports_to) >= 2:
            continue
        lines = (
            f"reports only to {_names(model, body.reports_to, capabilities=False)}"
            if body.reports_to
            else "has no reporting line"
        )
        yield Finding(
            "digital-team-single-line",
            "medium",
            f"{body.name} {lines}",
            f"{body.name} {lines}. A digital team bridges marketing and IT when it reports into "
            "both; with one line it becomes that function's team.",
            Citation(
                "001",
                "establishing a dedicated digital team, often with reporting lines into both the "
                "CMO and CIO",
            ),
            functions=body.reports_to,
        )


STEERING_CITATION = Citation(
    "000",
    "a steering committee combining the CMO, CTO and CIO will be tasked with creating a "
    "strategic solution",
)


@rule("no-steering-committee")
def no_steering_committee(model: OwnershipModel) -> Iterable[Finding]:
    if model.bodies_of_kind("steering_committee"):
        return
    yield Finding(
        "no-steering-committee",
        "medium",
        "No steering committee for digital",
        "No governance body of kind steering_committee brings the heads of marketing and IT "
        "together with the executive to set the digital course.",
        STEERING_CITATION,
    )


@rule("steering-committee-incomplete")
def steering_committee_incomplete(model: OwnershipModel) -> Iterable[Finding]:
    for body in model.bodies_of_kind("steering_committee"):
        kinds = {model.kind_of(fn) for fn in body.members}
        missing = [
            label for kind, label in (("marketing", "marketing"), ("it", "IT")) if kind not in kinds
        ]
        if missing:
            yield Finding(
                "steering-committee-incomplete",
                "low",
                f"{body.name} has no seat for {' or '.join(missing)}",
                f"{body.name} lacks {' and '.join(missing)}: the committee that sets the digital "
                "course should combine communication, technical and information strengths.",
                STEERING_CITATION,
                functions=body.members,
            )


def evaluate(model: OwnershipModel, rules: Iterable[str] | None = None) -> list[Finding]:
    """Every finding for `model`, most severe first."""
    selected = RULES if rules is None else {r: RULES[r] for r in rules}
    found = [f for check in selected.values() for f in check(model)]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])
