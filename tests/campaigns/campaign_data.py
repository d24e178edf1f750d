"""Small, fully known campaign data for the campaign tests: six customers with orders, emails and
profiles, identities written by hand as resolution would, arms imported from a known split.

Assignment time T = 2026-03-01. Orders (revenue) relative to T, with a 14-day window and a
28-day pre-period:

| customer | arm     | in window (T .. T+14d)       | outside        | pre-period (T-28d .. T) |
|----------|---------|------------------------------|----------------|-------------------------|
| cus_1    | control | +1d 10                       | +20d 5         | -3d 7                   |
| cus_2    | control | -                            | -              | -                       |
| cus_3    | control | +2d "12.5" (text)            | -              | -                       |
| cus_4    | offer   | +1d 20, +13d 30              | -              | -                       |
| cus_5    | offer   | -                            | -              | -1h 40                  |
| cus_6    | offer   | +5d 15                       | +14d 99 (edge) | -                       |

So, per arm (control; offer): purchased 2/3; 2/3 - orders 2; 3 - revenue 22.5; 65 - orders in
the pre-period 1; 1. Email Opened events with properties.campaign = "spring" for cus_4 and cus_6
(cus_6 twice), and one for another campaign (cus_1).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from tandem.customers.ingest import ingest_file
from tandem.customers.profiles import build_profiles
from tandem.lake.derived import replace_table
from tandem.workspace import Workspace

T = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 1, tzinfo=UTC)
ARMS = {
    "cus_1": "control",
    "cus_2": "control",
    "cus_3": "control",
    "cus_4": "offer",
    "cus_5": "offer",
    "cus_6": "offer",
}
TIERS = {"cus_1": "gold", "cus_2": "gold", "cus_3": "silver", "cus_4": "gold", "cus_5": "silver"}
"""A golden trait `tier` (cus_6 has none)."""


def _ts(delta: timedelta) -> str:
    return (T + delta).isoformat().replace("+00:00", "Z")


def _order(mid: str, user: str, delta: timedelta, revenue: Any) -> dict[str, Any]:
    return {
        "messageId": mid,
        "type": "track",
        "userId": user,
        "event": "Order Completed",
        "timestamp": _ts(delta),
        "properties": {"order_id": mid, "revenue": revenue},
    }


def _opened(mid: str, user: str, delta: timedelta, campaign: str) -> dict[str, Any]:
    return {
        "messageId": mid,
        "type": "track",
        "userId": user,
        "event": "Email Opened",
        "timestamp": _ts(delta),
        "properties": {"campaign": campaign},
    }


DAY = timedelta(days=1)
MESSAGES = [
    *(
        {
            "messageId": f"id{i}",
            "type": "identify",
            "userId": f"u{i}",
            "timestamp": _ts(-60 * DAY),
            "traits": {
                "email": f"p{i}@x.example",
                **({"tier": TIERS[f"cus_{i}"]} if f"cus_{i}" in TIERS else {}),
            },
        }
        for i in range(1, 7)
    ),
    _order("o1", "u1", 1 * DAY, 10),
    _order("o2", "u1", 20 * DAY, 5),
    _order("o3", "u1", -3 * DAY, 7),
    _order("o4", "u3", 2 * DAY, "12.5"),
    _order("o5", "u4", 1 * DAY, 20),
    _order("o6", "u4", 13 * DAY, 30),
    _order("o7", "u5", -timedelta(hours=1), 40),
    _order("o8", "u6", 5 * DAY, 15),
    _order("o9", "u6", 14 * DAY, 99),
    _opened("e1", "u4", 1 * DAY, "spring"),
    _opened("e2", "u6", 1 * DAY, "spring"),
    _opened("e3", "u6", 2 * DAY, "spring"),
    _opened("e4", "u1", 1 * DAY, "another"),
]


def customer_of(message: dict[str, Any]) -> str:
    return "cus_" + str(message["userId"]).removeprefix("u")


def build(ws: Workspace, tmp: Path, messages: list[dict[str, Any]] | None = None) -> None:
    """Ingest the messages into source `web`, write identities by hand and build profiles."""
    messages = MESSAGES if messages is None else messages
    if "web" not in {s.name for s in ws.sources.list()}:
        ws.sources.add("web", kind="web", owners=["marketing"])
    path = tmp / f"web-{len(messages)}.ndjson"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    result = ingest_file(ws.lake, path, source="web")
    assert result.rejected == 0, result
    replace_table(
        ws.lake,
        "identities",
        pa.table(
            {
                "source": ["web"] * len(messages),
                "message_id": [m["messageId"] for m in messages],
                "record_id": [m["messageId"] for m in messages],
                "customer_id": [customer_of(m) for m in messages],
            }
        ),
    )
    build_profiles(ws, now=NOW, run=1)


def definition(**changes: Any) -> dict[str, Any]:
    """The test campaign `spring` over the six customers (arms 50/50, three metrics)."""
    d: dict[str, Any] = {
        "name": "spring",
        "description": "Spring offer",
        "channel": "email",
        "owners": ["marketing", "it"],
        "customers": list(ARMS),
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-03-31T00:00:00Z",
        "arms": [
            {"name": "control", "share": 0.5, "control": True},
            {"name": "offer", "share": 0.5},
        ],
        "metrics": [
            {"name": "purchased", "kind": "conversion", "event": "Order Completed"},
            {
                "name": "orders",
                "kind": "count",
                "event": "Order Completed",
                "covariate": {"pre_period_days": 28},
            },
            {
                "name": "revenue",
                "kind": "sum",
                "event": "Order Completed",
                "property": "revenue",
                "window_days": 14,
            },
        ],
        "exposures": [{"kind": "opened", "event": "Email Opened"}],
    }
    d.update(changes)
    return d


def import_known_arms(ws: Workspace, tmp: Path, name: str = "spring") -> None:
    """Give every customer the arm of ARMS (an import, assigned at T)."""
    path = tmp / "arms.csv"
    path.write_text(
        "customer_id,arm\n" + "".join(f"{c},{a}\n" for c, a in ARMS.items()), encoding="utf-8"
    )
    summary = ws.campaigns.import_assignments(name, path, at=T)
    assert (summary.accepted, summary.rejected) == (6, 0), summary
