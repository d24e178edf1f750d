"""The couples network: which functions work together on digital, from several kinds of evidence.

Each *evidence kind* turns one part of the workspace into weights on pairs of functions:

- `survey`: respondents of one function naming the other when asked which functions they work
  with on digital work (both directions added; a pair's weight is a number of answers);
- `responsibilities`: two functions holding a role on the same capability. A function's weight
  on a capability is its strongest role: R or A = 1, C = 0.5, I = 0 (informed is one-way: being
  told of a decision is not working together); the pair's weight is the product of the two, so
  R/A with R/A = 1, R/A with C = 0.5, C with C = 0.25, summed over capabilities;
- `sources`: customer data sources the two co-own (one per source);
- `initiatives`: initiatives in which both take part, as owners or through team members (one per
  initiative).

Issue 5 adds segments and campaigns by registering one more evidence kind each with
`@evidence_kind(...)`; the matrix, the measures and the findings need no change.

The combined network adds the kinds after scaling each to its strongest pair (so each kind adds
at most 1 to a pair): a pair with evidence of any kind is an edge. Measures come from `networkx`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Final

import networkx as nx

from tandem.errors import InvalidValue
from tandem.ownership.citations import Citation
from tandem.ownership.findings import SEVERITY_ORDER, Finding, Severity
from tandem.ownership.model import OwnershipModel

if TYPE_CHECKING:
    from tandem.collaboration.surveys import PairRating
    from tandem.workspace import Workspace

Pair = tuple[str, str]
ROLE_WEIGHTS: Final[dict[str, float]] = {"R": 1.0, "A": 1.0, "C": 0.5, "I": 0.0}
HUB_KIND: Final = "digital"
POOR_RATING: Final = 50.0
"""Agreement (percent) below which a side rates a couple poorly (configurable per call)."""


def pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


# -- evidence ----------------------------------------------------------------------------------
@dataclass
class Evidence:
    """One kind of evidence as weights on pairs of functions, with the reasons behind each."""

    kind: str
    weights: dict[Pair, float] = field(default_factory=dict)
    reasons: dict[Pair, list[str]] = field(default_factory=dict)

    def add(self, a: str, b: str, weight: float, reason: str) -> None:
        if a == b or weight <= 0:
            return
        key = pair(a, b)
        self.weights[key] = self.weights.get(key, 0.0) + weight
        self.reasons.setdefault(key, []).append(reason)

    def scaled(self) -> dict[Pair, float]:
        top = max(self.weights.values(), default=0.0)
        return {k: v / top for k, v in self.weights.items()} if top else {}


@dataclass(frozen=True)
class EvidenceContext:
    workspace: Workspace
    model: OwnershipModel
    survey: str | None = None


Collector = Callable[[EvidenceContext], Evidence]


@dataclass(frozen=True)
class EvidenceKind:
    kind: str
    label: str
    unit: str
    collect: Collector


EVIDENCE_KINDS: dict[str, EvidenceKind] = {}


def evidence_kind(kind: str, label: str, unit: str) -> Callable[[Collector], Collector]:
    """Register a kind of evidence (issue 5 registers segments and campaigns this way)."""

    def register(fn: Collector) -> Collector:
        EVIDENCE_KINDS[kind] = EvidenceKind(kind, label, unit, fn)
        return fn

    return register


@evidence_kind("survey", "survey answers (who works with whom)", "answers")
def survey_evidence(ctx: EvidenceContext) -> Evidence:
    """Answers naming the other function, both directions added; hidden groups do not count."""
    out = Evidence("survey")
    known = {f.key for f in ctx.model.functions}
    counts = ctx.workspace.surveys.works_with_evidence(ctx.survey)
    for (a, b), count in sorted(counts.items()):
        if a in known and b in known:
            out.add(
                a,
                b,
                float(count),
                f"{count} survey answer{'s' if count != 1 else ''} from {a} or {b} name the other",
            )
    return out


@evidence_kind("responsibilities", "shared responsibilities on capabilities", "weighted roles")
def responsibility_evidence(ctx: EvidenceContext) -> Evidence:
    out = Evidence("responsibilities")
    for cap in ctx.model.capabilities:
        strength = {
            fn: max(ROLE_WEIGHTS[r] for r in roles) for fn, roles in cap.owners.items() if roles
        }
        for a, b in combinations(sorted(strength), 2):
            out.add(
                a,
                b,
                strength[a] * strength[b],
                f"{cap.name} ({a} {cap.owners[a]}, {b} {cap.owners[b]})",
            )
    return out


@evidence_kind("sources", "co-owned customer data sources", "sources")
def source_evidence(ctx: EvidenceContext) -> Evidence:
    out = Evidence("sources")
    for source in ctx.workspace.sources.list():
        for a, b in combinations(sorted(set(source.owners)), 2):
            out.add(a, b, 1.0, f"source {source.name}")
    return out


@evidence_kind("initiatives", "initiatives worked on together", "initiatives")
def initiative_evidence(ctx: EvidenceContext) -> Evidence:
    out = Evidence("initiatives")
    for key, functions in ctx.workspace.initiatives.participants():
        for a, b in combinations(sorted(functions), 2):
            out.add(a, b, 1.0, f"initiative {key}")
    return out


# -- measures ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionMeasures:
    key: str
    name: str
    kind: str
    degree: int
    weighted_degree: float
    betweenness: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "degree": self.degree,
            "weighted_degree": round(self.weighted_degree, 4),
            "betweenness": round(self.betweenness, 4),
        }


@dataclass(frozen=True)
class NetworkReport:
    functions: list[FunctionMeasures]
    evidence: list[str]
    matrices: dict[str, dict[Pair, float]]
    reasons: dict[Pair, list[str]]
    combined: dict[Pair, float]
    components: list[list[str]]
    hubs: list[str]
    findings: list[Finding]

    def weight(self, a: str, b: str, kind: str | None = None) -> float:
        source = self.combined if kind is None else self.matrices.get(kind, {})
        return source.get(pair(a, b), 0.0)

    def to_dict(self) -> dict[str, Any]:
        keys = [f.key for f in self.functions]

        def matrix(weights: dict[Pair, float]) -> dict[str, dict[str, float]]:
            return {
                a: {b: round(weights.get(pair(a, b), 0.0), 4) for b in keys if b != a} for a in keys
            }

        return {
            "evidence": self.evidence,
            "role_weights": ROLE_WEIGHTS,
            "functions": [f.to_dict() for f in self.functions],
            "matrices": {kind: matrix(w) for kind, w in self.matrices.items()},
            "combined": matrix(self.combined),
            "pairs": [
                {
                    "functions": list(p),
                    "combined": round(w, 4),
                    "by_kind": {k: m[p] for k, m in self.matrices.items() if m.get(p, 0.0) > 0},
                    "reasons": self.reasons.get(p, []),
                }
                for p, w in sorted(self.combined.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "components": self.components,
            "hubs": self.hubs,
            "findings": [f.to_dict() for f in self.findings],
        }


# -- findings ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Couple:
    kinds: Pair
    label: str
    severity: Severity
    citation: Citation


COUPLES: Final[tuple[Couple, ...]] = (
    Couple(
        ("marketing", "it"),
        "marketing and IT",
        "high",
        Citation(
            "001",
            "As firms move toward a transformation digital strategy, they must marry DCX with "
            "DOX, requiring marketing and IT to operate as a seamless unit",
        ),
    ),
    Couple(
        ("hr", "marketing"),
        "HR and marketing",
        "medium",
        Citation("004", "HR Director and Marketing: the ideal couple who never meet"),
    ),
    Couple(
        ("hr", "it"),
        "HR and IT",
        "medium",
        Citation(
            "004",
            "But digital transformation is also the employee experience. Hence the existence of "
            "another old couple: the DRH-DSI couple.",
        ),
    ),
)
HUB_CITATION = Citation(
    "004",
    "The CDO's mission is to be the hub for meetings and synergies, to ensure that those who "
    "worked in their area start working with others.",
)
ISOLATED_CITATION = Citation(
    "004",
    "A company will not be able to move forward if certain key functions continue to not talk "
    "to each other or ignore what they can bring to each other.",
)
RATED_POORLY_CITATION = Citation(
    "001",
    "only 25 per cent of executives in the survey saw their digital business units and IT "
    "working well together, and only 30 per cent believed marketing and digital business units "
    "had a good relationship.",
)
MARKETING_IT_RATING_CITATION = Citation(
    "001",
    "Only 17 per cent of executives in companies that don't have a digital revenue team report "
    "IT and marketing working well together, with 26 per cent reporting that the two teams "
    "don't work together at all",
)


def _rating_citation(model: OwnershipModel, a: str, b: str) -> Citation:
    kinds = {model.kind_of(a), model.kind_of(b)}
    return MARKETING_IT_RATING_CITATION if kinds == {"marketing", "it"} else RATED_POORLY_CITATION


def _names(model: OwnershipModel, keys: Iterable[str]) -> str:
    names = []
    for key in keys:
        fn = model.function(key)
        names.append(fn.name if fn is not None else key)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _kinds_text(kinds: Sequence[str]) -> str:
    labels = [EVIDENCE_KINDS[k].label for k in kinds]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _never_meet(model: OwnershipModel, report: _Draft) -> Iterable[Finding]:
    for couple in COUPLES:
        side_a = sorted(model.keys_of_kind(couple.kinds[0]))
        side_b = sorted(model.keys_of_kind(couple.kinds[1]))
        if not side_a or not side_b:
            continue
        if any(report.combined.get(pair(a, b), 0.0) > 0 for a in side_a for b in side_b):
            continue
        yield Finding(
            "couple-never-meets",
            couple.severity,
            f"{couple.label[0].upper()}{couple.label[1:]} never meet",
            f"No evidence links {_names(model, side_a)} with {_names(model, side_b)}: "
            f"none in {_kinds_text(report.kinds)}. Give the couple a shared piece of work "
            "(a capability, a source or an initiative they own together).",
            couple.citation,
            functions=tuple(side_a + side_b),
        )


def _hub_reach(model: OwnershipModel, report: _Draft) -> Iterable[Finding]:
    everyone = [f.key for f in model.functions]
    for hub in report.hubs:
        missed = [k for k in everyone if k != hub and report.combined.get(pair(hub, k), 0.0) <= 0]
        if not missed:
            continue
        reached = len(everyone) - 1 - len(missed)
        yield Finding(
            "hub-does-not-reach",
            "medium",
            f"{_names(model, [hub])} does not reach {len(missed)} function"
            f"{'s' if len(missed) != 1 else ''}",
            f"{_names(model, [hub])} works directly with {reached} of {len(everyone) - 1} "
            f"functions; no evidence links it with {_names(model, missed)}. The hub is where the "
            "functions meet on digital: bring these in.",
            HUB_CITATION,
            functions=(hub, *missed),
        )


def _isolated(model: OwnershipModel, report: _Draft) -> Iterable[Finding]:
    if not any(w > 0 for w in report.combined.values()):
        yield Finding(
            "network-empty",
            "high",
            "No evidence that any two functions work together",
            f"Nothing in {_kinds_text(report.kinds)} links one function with another yet: "
            "assign shared responsibilities, run a pulse survey, or record joint initiatives.",
            ISOLATED_CITATION,
            functions=tuple(f.key for f in model.functions),
        )
        return
    for fn in model.functions:
        if any(fn.key in p and w > 0 for p, w in report.combined.items()):
            continue
        yield Finding(
            "function-isolated",
            "medium",
            f"{fn.name} works with no other function",
            f"No evidence links {fn.name} with any other function: none in "
            f"{_kinds_text(report.kinds)}.",
            ISOLATED_CITATION,
            functions=(fn.key,),
        )


def _rated_poorly(
    model: OwnershipModel,
    ratings: Sequence[PairRating],
    threshold: float,
    *,
    versus_benchmark: bool = False,
) -> Iterable[Finding]:
    """Both sides agree less than `threshold` percent (or, with `versus_benchmark`, less than
    the Forrester figure for that question, where there is one)."""
    order = {f.key: i for i, f in enumerate(model.functions)}
    for rating in ratings:
        a, b = sorted(rating.pair, key=lambda k: (order.get(k, len(order)), k))
        share_a, share_b = rating.shares.get(a), rating.shares.get(b)
        if share_a is None or share_b is None:
            continue  # a side hidden for anonymity (or silent) is no evidence either way
        figure = rating.benchmark_percent
        use_figure = versus_benchmark and figure is not None
        bar = float(figure) if use_figure and figure is not None else threshold
        if share_a * 100 >= bar or share_b * 100 >= bar:
            continue
        if use_figure:
            bench = f" the Forrester figure ({figure}% agree)"
        elif figure is not None:
            bench = f" {threshold:g}% ({figure}% agree in the Forrester survey)"
        else:
            bench = f" {threshold:g}%"
        yield Finding(
            "couple-rated-poorly",
            "high",
            f"{_names(model, [a])} and {_names(model, [b])} both rate their collaboration poorly",
            f"Asked \u201c{rating.text}\u201d, {share_a:.0%} of {_names(model, [a])} "
            f"(n={rating.respondents.get(a)}) and {share_b:.0%} of {_names(model, [b])} "
            f"(n={rating.respondents.get(b)}) agree: both sides below{bench}.",
            _rating_citation(model, a, b),
            functions=(a, b),
        )


@dataclass
class _Draft:
    kinds: list[str]
    combined: dict[Pair, float]
    hubs: list[str]


# -- the service -------------------------------------------------------------------------------
class Network:
    """The couples network of a workspace."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace

    def show(
        self,
        evidence: Sequence[str] | None = None,
        *,
        survey: str | None = None,
        threshold: float = POOR_RATING,
        versus_benchmark: bool = False,
    ) -> NetworkReport:
        kinds = _evidence_kinds(evidence)
        if not 0 <= threshold <= 100:
            raise InvalidValue("the rating threshold is a percentage (0-100)", field="threshold")
        model = self.ws.ownership.model()
        ctx = EvidenceContext(self.ws, model, survey)
        collected = {k: EVIDENCE_KINDS[k].collect(ctx) for k in kinds}
        combined: dict[Pair, float] = defaultdict(float)
        reasons: dict[Pair, list[str]] = defaultdict(list)
        for ev in collected.values():
            for p, w in ev.scaled().items():
                combined[p] += w
            for p, why in ev.reasons.items():
                reasons[p].extend(why)
        graph: nx.Graph[str] = nx.Graph()
        graph.add_nodes_from(f.key for f in model.functions)
        graph.add_weighted_edges_from((a, b, w) for (a, b), w in combined.items() if w > 0)
        betweenness = nx.betweenness_centrality(graph, normalized=True)
        measures = [
            FunctionMeasures(
                f.key,
                f.name,
                f.kind,
                int(graph.degree(f.key)),
                float(graph.degree(f.key, weight="weight")),
                float(betweenness.get(f.key, 0.0)),
            )
            for f in model.functions
        ]
        order = {f.key: i for i, f in enumerate(model.functions)}
        components = sorted(
            (sorted(c, key=order.__getitem__) for c in nx.connected_components(graph)),
            key=lambda c: (-len(c), order[c[0]]),
        )
        draft = _Draft(kinds, dict(combined), sorted(model.keys_of_kind(HUB_KIND)))
        findings = [*_never_meet(model, draft), *_hub_reach(model, draft), *_isolated(model, draft)]
        if "survey" in kinds:
            ratings = self.ws.surveys.pair_ratings(survey)
            findings.extend(
                _rated_poorly(model, ratings, threshold, versus_benchmark=versus_benchmark)
            )
        return NetworkReport(
            functions=measures,
            evidence=kinds,
            matrices={k: dict(ev.weights) for k, ev in collected.items()},
            reasons=dict(reasons),
            combined=dict(combined),
            components=components,
            hubs=draft.hubs,
            findings=sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity]),
        )

    def findings(self, *, survey: str | None = None) -> list[Finding]:
        return self.show(survey=survey).findings


def _evidence_kinds(evidence: Sequence[str] | None) -> list[str]:
    if evidence is None or "all" in evidence or not evidence:
        return list(EVIDENCE_KINDS)
    unknown = [k for k in evidence if k not in EVIDENCE_KINDS]
    if unknown:
        raise InvalidValue(
            f"unknown evidence kind `{unknown[0]}`",
            field="evidence",
            detail=f"use one of {', '.join(EVIDENCE_KINDS)} or all",
        )
    return list(dict.fromkeys(evidence))
