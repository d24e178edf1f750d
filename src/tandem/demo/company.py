"""Harbour & Vine: a mid-size home-and-garden retailer whose digital is half shared.

Its ownership model is written so that some findings fire for a reason a reader can see (marketing
alone answers for its channels, IT alone for vendor choice and the app, HR and marketing share
nothing, the digital team reports to marketing only) and others do not (the CEO sponsors the
vision, a steering committee seats marketing and IT, the CDO's team exists). Everything is drawn
from a seeded random generator, so the same seed gives the same company.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from tandem.demo.campaigns import build_campaigns
from tandem.demo.channels import build_channels
from tandem.demo.collaboration import build_collaboration
from tandem.errors import Conflict
from tandem.ownership.catalogue import DEFAULT_CAPABILITIES, DEFAULT_FUNCTIONS
from tandem.workspace import Workspace

COMPANY = {
    "name": "Harbour & Vine",
    "industry": "Retail (home & garden)",
    "employees": 4200,
    "digital_revenue_team": False,
}
MARKER = ".tandem-demo"

FIRST = [
    "Ana",
    "Amir",
    "Bea",
    "Ben",
    "Carla",
    "Chen",
    "Dana",
    "David",
    "Elif",
    "Emma",
    "Farid",
    "Femi",
    "Grace",
    "Hugo",
    "Ines",
    "Ivan",
    "Jade",
    "Jonas",
    "Kai",
    "Kemi",
    "Lena",
    "Luca",
    "Maya",
    "Mateo",
    "Nadia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Paul",
    "Rosa",
    "Rui",
    "Sara",
    "Sam",
    "Tara",
    "Tom",
    "Una",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Adeyemi",
    "Almeida",
    "Bauer",
    "Bianchi",
    "Brennan",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kaur",
    "Kowalski",
    "Laine",
    "Lambert",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Tanaka",
    "Varga",
    "Walsh",
    "Weber",
    "Yilmaz",
    "Zhang",
]

# function key -> (head title, number of people, other titles)
STAFF: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "executive": (
        "Chief Executive Officer",
        3,
        ("Chief Financial Officer", "Chief Operating Officer"),
    ),
    "marketing": (
        "Chief Marketing Officer",
        8,
        (
            "Head of Brand",
            "Social Media Lead",
            "CRM Manager",
            "Performance Marketing Manager",
            "Content Lead",
        ),
    ),
    "it": (
        "Chief Information Officer",
        7,
        (
            "Head of Architecture",
            "Data Engineering Lead",
            "Mobile Lead",
            "Service Delivery Manager",
        ),
    ),
    "digital": (
        "Chief Digital Officer",
        5,
        ("Digital Product Manager", "UX Lead", "Analytics Lead"),
    ),
    "hr": ("Chief People Officer", 4, ("Talent Acquisition Lead", "Learning Manager")),
    "pr": ("Head of Communications", 3, ("Community Manager", "Press Officer")),
    "customer-service": (
        "Head of Customer Service",
        6,
        ("Contact Centre Manager", "Social Care Lead", "Quality Lead"),
    ),
    "innovation": ("Head of Innovation", 3, ("Product Designer", "Insight Researcher")),
    "business-units": (
        "Director of Stores",
        5,
        ("Regional Manager North", "Regional Manager South", "Garden Category Lead"),
    ),
    "ecommerce": ("Head of E-commerce", 4, ("Marketplace Manager", "Online Merchandiser")),
}

EXTRA_FUNCTIONS = [
    {
        "key": "ecommerce",
        "name": "E-commerce",
        "kind": "business",
        "description": "Runs the online shop and the marketplace channels.",
    }
]
EXTRA_CAPABILITIES = [
    {
        "key": "loyalty-programme",
        "name": "Loyalty programme",
        "description": "The Harbour Club card, its points and member offers.",
        "customer_facing": True,
    },
    {
        "key": "click-and-collect",
        "name": "Click & collect",
        "description": "Order online, collect in store within two hours.",
        "customer_facing": True,
    },
]

OWNERS: dict[str, dict[str, str]] = {
    "digital-vision-strategy": {"executive": "A", "digital": "R", "marketing": "C", "it": "C"},
    "social-media-marketing": {"marketing": "RA", "pr": "C", "customer-service": "I"},
    "digital-marketing-strategy": {"marketing": "RA", "digital": "C", "ecommerce": "C"},
    "social-crm": {"marketing": "A", "customer-service": "R", "it": "C"},
    "customer-experience-strategy": {"marketing": "A", "digital": "RA", "customer-service": "C"},
    "customer-analytics": {"marketing": "A", "it": "RA", "digital": "R"},
    "digital-media-selection": {"marketing": "RA", "digital": "C"},
    "crm": {"marketing": "A", "it": "RA", "customer-service": "C"},
    "web-strategy": {"digital": "A", "marketing": "R", "ecommerce": "R", "it": "C"},
    "web-design": {"digital": "RA", "it": "R", "marketing": "C"},
    "digital-vendor-selection": {"it": "RA", "marketing": "C", "digital": "C"},
    "customer-mobile-app-development": {"it": "A", "digital": "R", "marketing": "C"},
    "employee-digital-engagement": {"it": "A", "hr": "R", "pr": "C"},
    "social-customer-service": {"customer-service": "RA", "pr": "C", "marketing": "I"},
    "customer-ideas-innovation": {"innovation": "A", "digital": "R", "marketing": "C"},
    "digital-recruiting-employer-brand": {"hr": "RA", "pr": "C", "marketing": "I"},
    "customer-data-integration": {"it": "A", "marketing": "R", "digital": "R"},
    "loyalty-programme": {"marketing": "A", "ecommerce": "A", "it": "R"},
    "click-and-collect": {
        "business-units": "A",
        "ecommerce": "R",
        "it": "R",
        "customer-service": "C",
    },
}

GOVERNANCE = [
    {
        "key": "digital-steering-committee",
        "name": "Digital steering committee",
        "kind": "steering_committee",
        "description": "Meets monthly; chaired by the CEO.",
        "members": ["executive", "marketing", "it", "digital"],
        "reports_to": ["executive"],
    },
    {
        "key": "digital-team",
        "name": "Digital team",
        "kind": "digital_team",
        "description": "The CDO's team of product, UX and analytics people.",
        "members": ["digital"],
        "reports_to": ["marketing"],
    },
]

EXPECTED_FINDINGS = {
    "marketing-alone-accountable",
    "it-alone-accountable",
    "hr-marketing-share-nothing",
    "digital-team-single-line",
}
"""The rules the demo company triggers, and only these (tests hold the generator to it)."""


def _people(rng: random.Random, function: str, used: set[str]) -> tuple[str, list[dict[str, Any]]]:
    head_title, count, titles = STAFF[function]
    people = []
    for i in range(count):
        while True:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if name not in used:
                used.add(name)
                break
        title = head_title if i == 0 else titles[(i - 1) % len(titles)]
        email = name.lower().replace(" ", ".") + "@harbourandvine.example"
        people.append({"name": name, "title": title, "email": email})
    return people[0]["name"], people


def demo_ownership(seed: int = 7) -> dict[str, Any]:
    """The demo company's ownership model in the YAML file format."""
    rng = random.Random(seed)
    used: set[str] = set()
    functions = []
    for f in [
        {"key": d.key, "name": d.name, "kind": d.kind, "description": d.description}
        for d in DEFAULT_FUNCTIONS
    ] + EXTRA_FUNCTIONS:
        head, people = _people(rng, f["key"], used)
        functions.append({**f, "head": head, "people": people})
    capabilities = [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "customer_facing": c.customer_facing,
        }
        for c in DEFAULT_CAPABILITIES
    ] + EXTRA_CAPABILITIES
    for cap in capabilities:
        cap["owners"] = OWNERS[str(cap["key"])]
    return {
        "version": 1,
        "company": COMPANY,
        "functions": functions,
        "capabilities": capabilities,
        "governance": GOVERNANCE,
    }


@dataclass
class DemoCompany:
    workspace: Workspace
    ownership_file: Path
    steps: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    """The campaigns built (none without identity resolution, or when they were skipped)."""


def build_demo(
    directory: Path,
    *,
    seed: int = 7,
    customers: int = 2000,
    force: bool = False,
    database_url: str | None = None,
    resolve_identities: bool = True,
    campaigns: bool = True,
    as_of: date | None = None,
) -> DemoCompany:
    """Create the demo workspace in `directory` (a fresh one; `force` rebuilds an old demo).
    With `resolve_identities`, the channel data is resolved into customers and profiles, as
    `tandem resolve` does, so the dashboard shows them; with `campaigns` too, segments and three
    email campaigns with known true effects are added (tandem.demo.campaigns). The data ends
    at `as_of` (today by default)."""
    directory = directory.expanduser().resolve()
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise Conflict(
                f"{directory} already exists and is not empty; use --force to rebuild the demo "
                "there, or choose another --dir"
            )
        if not (directory / MARKER).exists():
            raise Conflict(
                f"{directory} was not made by `tandem demo`; refusing to delete it with --force"
            )
        shutil.rmtree(directory)
    ws = Workspace.init(directory, company=str(COMPANY["name"]), database_url=database_url)
    (directory / MARKER).write_text(f"seed = {seed}\ncustomers = {customers}\n", encoding="utf-8")
    path = directory / "ownership.yaml"
    text = (
        "# Harbour & Vine's ownership model (generated by `tandem demo`). Edit it and run\n"
        "# `tandem ownership import ownership.yaml` to see the findings change.\n"
    ) + yaml.safe_dump(demo_ownership(seed), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")
    ws.ownership.import_file(path)
    demo = DemoCompany(ws, path, [f"ownership model: {path}"])
    collab = build_collaboration(ws, seed=seed)
    demo.steps.append(
        f"pulse survey {collab.survey}: {collab.respondents} responses "
        f"({collab.responses_file}); {len(collab.initiatives)} initiatives, {collab.kpis} KPIs"
    )
    as_of = as_of or datetime.now(UTC).date()
    demo.steps += build_channels(ws, customers=customers, seed=seed, as_of=as_of).lines()
    if resolve_identities:
        from tandem.customers.resolve import resolve

        counts = resolve(ws).counts
        demo.steps.append(
            f"identity resolution: {counts['records']:,} records -> {counts['customers']:,} "
            f"customers ({counts['merges_deterministic']:,} merges by shared identifiers, "
            f"{counts['merges_probabilistic']:,} by probabilistic match); profiles built"
        )
        if campaigns:
            built = build_campaigns(ws, seed=seed, as_of=as_of)
            demo.steps += built.lines()
            demo.campaigns = [c["name"] for c in built.campaigns]
    return demo
