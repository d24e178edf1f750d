"""Harbour & Vine's email campaigns, each with a known true effect.

After the demo's channel data is resolved into customers, `build_campaigns`:

1. creates two segments (newsletter subscribers; Harbour Club gold members) and evaluates them;
2. creates three email campaigns on the subscribers, each with a 50/50 hold-out, and assigns
   them at three moments in the past (their 14-day windows do not overlap):
   - `spring-planting-offer` works: a treated customer orders with 12 points more probability;
   - `newsletter-redesign` does nothing;
   - `harbour-club-preview` works only for gold members of the loyalty programme (+25 points);
3. generates what followed: an `Email Sent` event per treated customer (the exposure) and, drawn
   from a seeded generator according to the truth above, the extra orders the campaigns caused
   (`Order Completed` on the web shop under the customer's shop account: a subscriber without
   an account cannot order online, so the campaigns change nothing for them);
4. ingests those events through the same file import `tandem ingest` uses, resolves again (so
   the new events belong to their customers) and records the exposures.

The truth is kept apart in `.demo-truth/campaigns.json`: the design, and the true effect of each
campaign on each metric over the customers actually assigned, overall and per loyalty tier. An
extra order only changes the conversion of a customer who did not order in the window anyway,
so the true lift on `purchased` is the mean of (1 - ordered anyway) x the added probability;
on `revenue` it is the added probability x the mean order value (orders add up).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tandem.demo.channels import CHANNELS_DIR, PRODUCTS, TRUTH_DIR

if TYPE_CHECKING:
    from tandem.workspace import Workspace

TRUTH_FILE = "campaigns.json"
WINDOW_DAYS = 14
BUCKET_TRAIT = "loyaltyTier"
MEAN_ORDER = float(np.mean([p[3] for p in PRODUCTS]))
"""An extra order is one product drawn uniformly: its expected revenue."""

SEGMENTS: tuple[dict[str, Any], ...] = (
    {
        "name": "newsletter-subscribers",
        "description": "Customers subscribed to the Harbour & Vine newsletter",
        "owners": ["marketing"],
        "where": {"trait": "subscribed", "op": "=", "value": True},
    },
    {
        "name": "gold-members",
        "description": "Harbour Club members on the gold tier",
        "owners": ["marketing", "ecommerce"],
        "where": {"trait": BUCKET_TRAIT, "op": "=", "value": "gold"},
    },
)


@dataclass(frozen=True)
class CampaignDesign:
    name: str
    description: str
    arm: str
    days_ago: int
    """Assigned this many days before the demo's end, at 09:00 UTC."""
    effect: float
    """Added probability of an order within the window for a treated customer."""
    only: str | None = None
    """Only customers with this loyalty tier respond (None: everyone)."""
    owners: tuple[str, ...] = ("marketing",)


DESIGNS: tuple[CampaignDesign, ...] = (
    CampaignDesign(
        "spring-planting-offer",
        "20% off spring planting for subscribers: it works",
        "offer",
        98,
        0.12,
        owners=("marketing", "ecommerce"),
    ),
    CampaignDesign(
        "newsletter-redesign",
        "The new newsletter layout: it changes nothing",
        "redesign",
        70,
        0.0,
        owners=("marketing", "digital"),
    ),
    CampaignDesign(
        "harbour-club-preview",
        "Early access for Harbour Club members: only gold members respond",
        "preview",
        42,
        0.25,
        only="gold",
        owners=("marketing", "ecommerce"),
    ),
)


def campaign_definition(design: CampaignDesign, at: datetime) -> dict[str, Any]:
    """The campaign's definition (Contract B's format)."""
    return {
        "name": design.name,
        "description": design.description,
        "channel": "email",
        "owners": list(design.owners),
        "segment": "newsletter-subscribers",
        "start": at.isoformat(),
        "end": (at + timedelta(days=28)).isoformat(),
        "arms": [
            {"name": "control", "share": 0.5, "control": True},
            {"name": design.arm, "share": 0.5},
        ],
        "metrics": [
            {
                "name": "purchased",
                "kind": "conversion",
                "event": "Order Completed",
                "window_days": WINDOW_DAYS,
                "covariate": {"pre_period_days": 28},
            },
            {
                "name": "revenue",
                "kind": "sum",
                "event": "Order Completed",
                "property": "revenue",
                "window_days": WINDOW_DAYS,
                "covariate": {"trait": "monetary"},
            },
        ],
        "exposures": [{"kind": "sent", "event": "Email Sent"}],
    }


@dataclass
class CampaignsSummary:
    """What `build_campaigns` did."""

    segments: dict[str, int] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    truth_file: Path | None = None
    skipped: str | None = None
    """Why no campaign was made (a population too small to have subscribers and tiers)."""

    def lines(self) -> list[str]:
        if self.skipped is not None:
            return [f"campaigns: none ({self.skipped})"]
        sizes = ", ".join(f"{k} ({v:,})" for k, v in self.segments.items())
        out = [f"segments: {sizes}"]
        for c in self.campaigns:
            arms = ", ".join(f"{a} {n:,}" for a, n in c["assigned"].items())
            out.append(
                f"campaign {c['name']}: {arms}; {c['sent']:,} emails sent, "
                f"{c['extra_orders']:,} orders it caused (true lift on purchased "
                f"{c['truth']['purchased']['overall']:+.4f})"
            )
        if self.truth_file is not None:
            out.append(f"campaigns' true effects (never ingested): {self.truth_file}")
        return out


def load_campaign_truth(workspace_root: Path | str) -> dict[str, Any]:
    """The campaigns' ground truth written by the demo (`.demo-truth/campaigns.json`)."""
    path = Path(workspace_root) / TRUTH_DIR / TRUTH_FILE
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _user_ids(ws: Workspace, customers: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(customer_id -> the shop account's user id on the web shop or app, customer_id -> the
    subscriber id the email service knows them by). Each source keeps its own kind of user id:
    a subscriber id sent by the web shop would make web and email one user-id namespace, and
    every email address seen with an account and a subscriber id would then count as shared."""
    import ibis  # type: ignore[import-untyped]

    from tandem.lake.schema import EVENTS, IDENTITIES

    # events ⋈ identities: `customer_events` does not carry the user id
    events, identities = ws.lake.raw(EVENTS), ws.lake.raw(IDENTITIES)
    events = events.filter(events.user_id.notnull() & events.source.isin(["web", "app", "email"]))
    ev = events.join(
        identities,
        [events.source == identities.source, events.message_id == identities.message_id],
    ).select(identities.customer_id, events.source, events.user_id)
    wanted = ibis.memtable({"_cid": customers})
    ev = ev.semi_join(wanted, ev.customer_id == wanted._cid)
    rows = (
        ev.group_by(["customer_id", "source", "user_id"])
        .aggregate()
        .order_by(["customer_id", "source", "user_id"])
        .to_pyarrow()
        .to_pylist()
    )
    shop: dict[str, str] = {}
    email: dict[str, str] = {}
    for r in rows:
        (email if r["source"] == "email" else shop).setdefault(r["customer_id"], r["user_id"])
    return shop, email


def _ordered_anyway(ws: Workspace, name: str) -> dict[str, bool]:
    """Assigned customer -> whether an order of theirs falls in the window already."""
    outcomes = ws.campaigns.outcomes(name, "purchased")
    rows = outcomes.select("customer_id", "value").to_pyarrow().to_pylist()
    return {r["customer_id"]: bool(r["value"]) for r in rows}


def _tiers(ws: Workspace, customers: list[str]) -> dict[str, str | None]:
    from tandem.campaigns.metrics import trait_value

    values, _kind = trait_value(ws.lake, BUCKET_TRAIT)
    rows = values.to_pyarrow().to_pylist()
    found = {r["customer_id"]: r["_trait"] for r in rows}
    return {c: found.get(c) for c in customers}


def _true_lifts(effect: np.ndarray, not_anyway: np.ndarray, index: list[int]) -> dict[str, float]:
    """The true lifts over some customers: on purchased, the mean added probability of those
    who would not have ordered anyway; on revenue, the mean added probability x order value."""
    e, n = effect[index], not_anyway[index]
    return {"purchased": float(np.mean(e * n)), "revenue": float(np.mean(e) * MEAN_ORDER)}


def build_campaigns(workspace: Workspace, *, seed: int, as_of: date) -> CampaignsSummary:
    """Create the demo's segments and campaigns, generate and ingest what followed them, resolve
    again, record the exposures and write the truth (the demo's data must be resolved)."""
    from tandem.campaigns.metrics import trait_value
    from tandem.customers.ingest import ingest_file
    from tandem.customers.resolve import resolve
    from tandem.errors import InvalidValue

    started = time.perf_counter()
    ws = workspace
    summary = CampaignsSummary()
    for trait in ("subscribed", BUCKET_TRAIT):
        try:
            trait_value(ws.lake, trait)
        except InvalidValue:
            summary.skipped = f"no customer has the trait {trait}"
            return summary
    for definition in SEGMENTS:
        info = ws.segments.create(definition)  # evaluates it: its size is the members stored
        summary.segments[definition["name"]] = info.size or 0
    rng = np.random.default_rng([seed, 20261206])
    end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    sends: list[bytes] = []
    orders: list[bytes] = []
    truth: dict[str, Any] = {
        "seed": seed,
        "as_of": as_of.isoformat(),
        "window_days": WINDOW_DAYS,
        "bucket_trait": BUCKET_TRAIT,
        "mean_order_value": MEAN_ORDER,
        "campaigns": {},
    }

    def uid() -> str:
        return str(uuid.UUID(bytes=rng.bytes(16), version=4))

    for design in DESIGNS:
        at = end - timedelta(days=design.days_ago) + timedelta(hours=9)
        ws.campaigns.create(campaign_definition(design, at))
        assigned = ws.campaigns.assign(design.name, at=at)
        rows = ws.campaigns.assignments(design.name).order_by("customer_id").to_pyarrow()
        customers = rows.column("customer_id").to_pylist()
        arms = rows.column("arm").to_pylist()
        anyway = _ordered_anyway(ws, design.name)
        tiers = _tiers(ws, customers)
        shop, email = _user_ids(ws, customers)
        effect = np.array(
            [
                design.effect if design.only is None or tiers[c] == design.only else 0.0
                for c in customers
            ]
        )
        treated = np.array([a == design.arm for a in arms])
        # Only a customer with a shop account can order online: no account, no effect.
        effect = effect * np.array([c in shop for c in customers])
        draws = rng.random(len(customers))
        buys = treated & (draws < effect)
        delays = rng.uniform(2 * 3600, (WINDOW_DAYS - 1) * 86400, len(customers))
        products = rng.integers(0, len(PRODUCTS), len(customers))
        sent = extra = 0
        for i, customer in enumerate(customers):
            if not treated[i]:
                continue
            if customer in email:
                sends.append(
                    json.dumps(
                        {
                            "type": "track",
                            "messageId": uid(),
                            "userId": email[customer],
                            "event": "Email Sent",
                            "properties": {
                                "campaign": design.name,
                                "email_subject": design.description,
                            },
                            "timestamp": _iso(at + timedelta(hours=1)),
                        }
                    ).encode()
                    + b"\n"
                )
                sent += 1
            if buys[i]:
                sku, name, category, price = PRODUCTS[int(products[i])]
                extra += 1
                orders.append(
                    json.dumps(
                        {
                            "type": "track",
                            "messageId": uid(),
                            "userId": shop[customer],
                            "event": "Order Completed",
                            "properties": {
                                "order_id": f"HV-{design.name[:3].upper()}-{extra:05d}",
                                "revenue": price,
                                "currency": "GBP",
                                "campaign": design.name,
                                "products": [
                                    {
                                        "product_id": sku,
                                        "name": name,
                                        "category": category,
                                        "price": price,
                                        "quantity": 1,
                                    }
                                ],
                            },
                            "timestamp": _iso(at + timedelta(seconds=float(delays[i]))),
                        }
                    ).encode()
                    + b"\n"
                )
        not_anyway = np.array([not anyway.get(c, False) for c in customers], dtype=float)
        buckets: dict[str, list[int]] = {}
        for i, c in enumerate(customers):
            buckets.setdefault(tiers[c] or "(none)", []).append(i)

        overall = _true_lifts(effect, not_anyway, list(range(len(customers))))
        by_bucket = {
            b: _true_lifts(effect, not_anyway, index) for b, index in sorted(buckets.items())
        }
        truth["campaigns"][design.name] = {
            "description": design.description,
            "assigned_at": at.isoformat(),
            "control": "control",
            "arm": design.arm,
            "added_probability": design.effect,
            "only": None if design.only is None else {BUCKET_TRAIT: design.only},
            "assigned": dict(assigned.counts),
            "sent": sent,
            "extra_orders": extra,
            "truth": {
                "purchased": {
                    "overall": overall["purchased"],
                    "by_bucket": {b: v["purchased"] for b, v in by_bucket.items()},
                },
                "revenue": {
                    "overall": overall["revenue"],
                    "by_bucket": {b: v["revenue"] for b, v in by_bucket.items()},
                },
            },
            "bucket_sizes": {b: len(index) for b, index in sorted(buckets.items())},
        }
    folder = ws.root / CHANNELS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for source, lines in (("email", sends), ("web", orders)):
        path = folder / f"campaigns-{source}.ndjson"
        path.write_bytes(b"".join(lines))
        ingest_file(ws.lake, path, source=source, format="ndjson")
    resolve(ws)
    for design in DESIGNS:
        ws.campaigns.record_exposures(design.name)
    for design in DESIGNS:
        entry = truth["campaigns"][design.name]
        summary.campaigns.append({"name": design.name, **entry})
    path = ws.root / TRUTH_DIR / TRUTH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    summary.truth_file = path
    summary.seconds = time.perf_counter() - started
    return summary
