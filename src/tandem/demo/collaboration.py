"""Harbour & Vine's collaboration: a pulse survey of 120 employees, initiatives and their KPIs.

Written so the couples network's findings appear, or not, for reasons a reader can check:

- HR and marketing never meet: marketing is only *informed* of HR's employer-brand work (one-way,
  no weight), no HR respondent names marketing and no marketing respondent names HR, they co-own
  no source and share no initiative.
- Marketing and IT do meet (CRM, analytics, data integration, click & collect) but rate their
  collaboration poorly on both sides: 6 of 22 in marketing and 6 of 20 in IT agree that they
  work well together (27% and 30%, below 50%). Digital-IT and marketing-digital are rated well.
- The digital team (the hub) reaches every function but HR and the stores (business units): it
  holds no role with them, neither names it in the survey nor it them, and no initiative joins
  them. PR is reached through the social-media guidelines initiative.
- No function is isolated: each has at least one shared role, answer or initiative.
- PR has 3 respondents: its figures are hidden (fewer than 5), and innovation's 5 with them in the
  agreement questions (subtracting from the totals would otherwise reveal PR's answers); in the
  "works with" question the survey results hide more groups, and hidden answers are no evidence.
- Of the initiatives, the Harbour Club app is customer-facing and owned by marketing, the digital
  team and e-commerce: IT's mobile lead is only in the team, so it is flagged. Initiatives come
  both top-down and bottom-up, so the one-way finding stays quiet.

Responses go through `workspace.surveys.import_csv` (the CSV is left in the workspace to read);
initiatives and KPIs through `workspace.initiatives`. Everything is drawn from a seeded generator.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tandem.collaboration.initiatives import MemberSpec
from tandem.workspace import Workspace

SURVEY = "pulse-2026"
CSV_FILE = "pulse-2026-responses.csv"

# function -> respondents (120 in all; PR below the anonymity threshold)
RESPONDENTS: dict[str, int] = {
    "executive": 7,
    "marketing": 22,
    "it": 20,
    "digital": 12,
    "hr": 10,
    "pr": 3,
    "customer-service": 17,
    "innovation": 5,
    "business-units": 14,
    "ecommerce": 10,
}

# agreement questions: function -> how many of its respondents agree (4 or 5 of 5); the others
# answer from the general rate below
AGREEING: dict[str, dict[str, int]] = {
    "marketing-it": {"marketing": 6, "it": 6},
    "digital-it": {"digital": 8, "it": 12},
    "marketing-digital": {"marketing": 15, "digital": 9},
}
GENERAL_AGREEMENT: dict[str, float] = {
    "right-people": 0.3,
    "have-strategy": 0.7,
    "trust-skills": 0.2,
    "marketing-it": 0.35,
    "digital-it": 0.5,
    "marketing-digital": 0.55,
}

# who each function names when asked whom it works with on digital work
WORKS_WITH: dict[str, tuple[str, ...]] = {
    "executive": ("marketing", "it", "digital"),
    "marketing": ("it", "digital", "ecommerce", "customer-service", "pr"),
    "it": ("marketing", "digital", "ecommerce", "hr", "business-units"),
    "digital": ("marketing", "it", "ecommerce", "customer-service", "innovation", "executive"),
    "hr": ("it", "pr"),
    "pr": ("marketing", "hr", "customer-service"),
    "customer-service": ("marketing", "it", "digital"),
    "innovation": ("digital", "marketing"),
    "business-units": ("ecommerce", "it", "customer-service"),
    "ecommerce": ("marketing", "it", "digital", "business-units"),
}
VISION: tuple[tuple[str, float], ...] = (
    ("executive", 0.45),
    ("marketing", 0.3),
    ("digital", 0.15),
    ("it", 0.1),
)
SENIORITY: tuple[str, ...] = ("staff", "staff", "staff", "manager", "manager", "director")


@dataclass(frozen=True)
class DemoKpi:
    key: str
    name: str
    target: float
    measure: str = "manual"
    direction: str = "at_least"
    unit: str = ""
    history: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class DemoInitiative:
    key: str
    title: str
    goal: str
    owners: tuple[str, ...]
    customer_facing: bool
    status: str
    origin: str
    start: str
    end: str | None
    team: tuple[tuple[str, str], ...]
    """(function, title of a person in it) or (function, "Name=...") for an outsider."""
    kpis: tuple[DemoKpi, ...] = ()


INITIATIVES: tuple[DemoInitiative, ...] = (
    DemoInitiative(
        "click-collect-2h",
        "Click & collect in two hours",
        "Orders placed online ready in store within two hours, with live stock on the web.",
        ("business-units", "ecommerce", "it", "marketing"),
        True,
        "active",
        "top-down",
        "2026-02-01",
        "2026-12-31",
        (("it", "Head of Architecture"), ("business-units", "Regional Manager North")),
        (
            DemoKpi(
                "ready-in-2h",
                "Orders ready within 2 hours",
                90,
                unit="%",
                history=(
                    ("2026-03-31", 62),
                    ("2026-05-31", 71),
                    ("2026-07-31", 78),
                    ("2026-09-30", 84),
                ),
            ),
            DemoKpi(
                "marketing-it-agree",
                "Marketing and IT say they work well together",
                50,
                measure=f"survey:{SURVEY}:marketing-it",
                unit="%",
            ),
        ),
    ),
    DemoInitiative(
        "harbour-club-app",
        "Harbour Club in the app",
        "Loyalty card, points and member offers inside the mobile app.",
        ("marketing", "digital", "ecommerce"),
        True,
        "active",
        "top-down",
        "2026-04-01",
        "2027-03-31",
        (("digital", "Digital Product Manager"), ("it", "Mobile Lead")),
        (
            DemoKpi(
                "app-members",
                "Club members using the app",
                40000,
                history=(("2026-06-30", 8200), ("2026-08-31", 15400), ("2026-10-31", 21900)),
            ),
            DemoKpi(
                "app-rating",
                "App store rating",
                4.5,
                unit="stars",
                history=(("2026-06-30", 3.8), ("2026-10-31", 4.1)),
            ),
        ),
    ),
    DemoInitiative(
        "social-guidelines",
        "Social media guidelines for staff",
        "How staff talk with customers online, written by the people who answer them.",
        ("pr", "customer-service", "digital"),
        False,
        "done",
        "bottom-up",
        "2026-01-15",
        "2026-05-29",
        (("pr", "Community Manager"), ("customer-service", "Social Care Lead")),
        (
            DemoKpi(
                "staff-briefed",
                "Front-line staff briefed",
                300,
                history=(("2026-04-30", 180), ("2026-05-29", 320)),
            ),
        ),
    ),
    DemoInitiative(
        "digital-skills-academy",
        "Digital skills academy",
        "Short courses on the tools and data every team now uses.",
        ("hr", "it"),
        False,
        "proposed",
        "bottom-up",
        "2026-11-01",
        None,
        (("hr", "Learning Manager"), ("it", "Service Delivery Manager")),
        (
            DemoKpi(
                "trust-skills",
                "Employees who trust our digital skills",
                35,
                measure=f"survey:{SURVEY}:trust-skills",
                unit="%",
            ),
        ),
    ),
)


@dataclass
class CollaborationSummary:
    survey: str
    respondents: int
    responses_file: str
    initiatives: list[str] = field(default_factory=list)
    kpis: int = 0
    reported_values: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey": self.survey,
            "respondents": self.respondents,
            "responses_file": self.responses_file,
            "initiatives": self.initiatives,
            "kpis": self.kpis,
            "reported_values": self.reported_values,
        }


def _agreement(rng: random.Random, agree: bool) -> int:
    return rng.choice((4, 4, 5)) if agree else rng.choice((1, 2, 2, 3, 3))


def survey_rows(seed: int) -> list[dict[str, str]]:
    """The demo's survey answers, one dict per respondent (CSV columns)."""
    rng = random.Random(seed * 7919 + 6)
    rows: list[dict[str, str]] = []
    for function, n in RESPONDENTS.items():
        agreeing: dict[str, list[bool]] = {}
        for question, rate in GENERAL_AGREEMENT.items():
            k = AGREEING.get(question, {}).get(function, round(rate * n))
            flags = [True] * k + [False] * (n - k)
            rng.shuffle(flags)
            agreeing[question] = flags
        for i in range(n):
            named = [f for f in WORKS_WITH[function] if rng.random() < 0.7]
            row = {
                "function": function,
                "seniority": "executive" if function == "executive" else rng.choice(SENIORITY),
                **{q: str(_agreement(rng, agreeing[q][i])) for q in GENERAL_AGREEMENT},
                "vision": rng.choices([v for v, _ in VISION], [w for _, w in VISION])[0],
                "works-with": ";".join(named or WORKS_WITH[function][:1]),
            }
            rows.append(row)
    rng.shuffle(rows)
    return rows


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _member(ws_people: dict[tuple[str, str], str], function: str, title: str) -> MemberSpec:
    name = ws_people.get((function, title))
    if name is None:  # no such person in this ownership model: an outsider named by role
        return MemberSpec(title, function)
    return MemberSpec(name, function, title)


def build_collaboration(workspace: Workspace, *, seed: int = 7) -> CollaborationSummary:
    """Add the pulse survey, its 120 responses, the initiatives and their KPIs to the demo."""
    workspace.surveys.create(SURVEY, "digital-pulse", title="Digital pulse 2026")
    rows = survey_rows(seed)
    path = workspace.root / CSV_FILE
    path.write_text(_csv(rows), encoding="utf-8")
    imported = workspace.surveys.import_csv(SURVEY, path)
    summary = CollaborationSummary(SURVEY, imported.accepted, str(path))

    model = workspace.ownership.model()
    people: dict[tuple[str, str], str] = {}
    for fn in model.functions:
        for person in fn.people:
            people.setdefault((fn.key, person.title), person.name)
    for item in INITIATIVES:
        workspace.initiatives.add(
            item.key,
            title=item.title,
            goal=item.goal,
            owners=item.owners,
            customer_facing=item.customer_facing,
            status=item.status,
            origin=item.origin,
            start=date.fromisoformat(item.start),
            end=date.fromisoformat(item.end) if item.end else None,
            members=[_member(people, fn, title) for fn, title in item.team],
        )
        summary.initiatives.append(item.key)
        for kpi in item.kpis:
            workspace.initiatives.add_kpi(
                item.key,
                kpi.key,
                name=kpi.name,
                target=kpi.target,
                measure=kpi.measure,
                direction=kpi.direction,
                unit=kpi.unit,
            )
            summary.kpis += 1
            for day, value in kpi.history:
                workspace.initiatives.report(item.key, kpi.key, value, on=date.fromisoformat(day))
                summary.reported_values += 1
    return summary
