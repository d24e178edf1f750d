"""A small, fully known lake for the profile, forget, CLI and API tests: two sources (crm, web),
four people, and identities written by hand (customer per person) as resolution would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from tandem.customers.ingest import ingest_file
from tandem.lake.derived import replace_table
from tandem.lake.schema import SCHEMAS
from tandem.workspace import Workspace

NOW = datetime(2026, 7, 1, tzinfo=UTC)


def _msg(mid: str, type_: str, ts: str, **fields: Any) -> dict[str, Any]:
    return {"messageId": mid, "type": type_, "timestamp": ts, **fields}


def _order(mid: str, user: str, ts: str, order_id: str, revenue: Any) -> dict[str, Any]:
    props = {"order_id": order_id, "revenue": revenue, "currency": "GBP"}
    return _msg(mid, "track", ts, userId=user, event="Order Completed", properties=props)


CRM = [
    _msg(
        "c1",
        "identify",
        "2026-01-01T00:00:00Z",
        userId="crm:C1",
        traits={
            "firstName": "Ann",
            "lastName": "Lee",
            "email": " ANN@X.EXAMPLE ",
            "phone": "07970 231820",
            "marketingOptIn": "yes",
        },
    ),
    _msg(
        "c4",
        "identify",
        "2026-01-05T00:00:00Z",
        userId="crm:C4",
        traits={"firstName": "", "lastName": "Dee", "subscribed": "1"},
    ),
]
WEB = [
    _msg(
        "w1",
        "identify",
        "2026-03-01T00:00:00Z",
        userId="hv-1",
        anonymousId="anon-1",
        traits={
            "firstName": "Annie",
            "email": "ann@x.example",
            "city": "Leeds",
            "marketingOptIn": False,
        },
    ),
    _order("w2", "hv-1", "2026-03-02T10:00:00Z", "O1", 100),
    _order("w3", "hv-1", "2026-03-02T10:00:05Z", "O1", 100),  # the same order sent twice
    _order("w4", "hv-1", "2026-06-01T00:00:00Z", "O2", "50.5"),
    _msg("w5", "page", "2026-02-01T00:00:00Z", anonymousId="anon-1", name="Home"),
    _msg(
        "w6",
        "identify",
        "2026-02-01T00:00:00Z",
        userId="hv-2",
        traits={"name": "Bob Stone", "email": "b@y.example", "phone": "+44 7826 298616"},
    ),
    _order("w7", "hv-2", "2026-02-10T00:00:00Z", "O3", 20),
    _msg("w8", "page", "2026-04-01T00:00:00Z", anonymousId="anon-3", name="Sale"),
    _order("w9", "hv-4", "2025-12-01T00:00:00Z", "O4", 500),
    _order("w10", "hv-4", "2026-05-01T00:00:00Z", "O5", 10),
]
CUSTOMER_OF = {
    "c1": "cus_a",
    "w1": "cus_a",
    "w2": "cus_a",
    "w3": "cus_a",
    "w4": "cus_a",
    "w5": "cus_a",
    "w6": "cus_b",
    "w7": "cus_b",
    "w8": "cus_c",
    "c4": "cus_d",
    "w9": "cus_d",
    "w10": "cus_d",
}
QUARANTINED = '{"type":"identify","userId":"hv-1","traits":{"email":"ann@x.example"'


def build_lake(ws: Workspace, tmp: Path) -> None:
    """Ingest the messages, one malformed line (quarantined), and the hand-made resolution."""
    ws.sources.add("crm", kind="crm", owners=["marketing"])
    ws.sources.add("web", kind="web", owners=["marketing"])
    for name, messages, extra in (("crm", CRM, ""), ("web", WEB, QUARANTINED + "\n")):
        path = tmp / f"{name}.ndjson"
        path.write_text("".join(json.dumps(m) + "\n" for m in messages) + extra)
        ingest_file(ws.lake, path, source=name)
    write_resolution(ws)


def write_resolution(ws: Workspace) -> None:
    sources = {m["messageId"]: "crm" for m in CRM} | {m["messageId"]: "web" for m in WEB}
    mids = sorted(CUSTOMER_OF)
    replace_table(
        ws.lake,
        "identities",
        pa.table(
            {
                "source": [sources[m] for m in mids],
                "message_id": mids,
                "record_id": ["C1" if m == "c1" else m for m in mids],
                "customer_id": [CUSTOMER_OF[m] for m in mids],
            }
        ),
    )
    created = datetime(2026, 6, 30, tzinfo=UTC)
    replace_table(
        ws.lake,
        "customer_ids",
        pa.table(
            {
                "customer_id": ["cus_a", "cus_b", "cus_c", "cus_d", "cus_old"],
                "created_at": [created] * 5,
                "run": [1] * 5,
                "merged_into": [None, None, None, None, "cus_a"],
                "merged_at": [None, None, None, None, created],
            }
        ),
    )
    links = [
        {"customer_id": "cus_a", "kind": "identifier", "id_type": "email",
         "id_value": "ann@x.example", "records": 2},
        {"customer_id": "cus_a", "kind": "identifier", "id_type": "anonymous_id",
         "id_value": "anon-1", "records": 2},
        {"customer_id": "cus_d", "kind": "match", "left_source": "crm",
         "left_record_id": "c4", "right_source": "web", "right_record_id": "w9",
         "match_weight": 12.5, "match_probability": 0.9998},
    ]  # fmt: skip
    schema = SCHEMAS["identity_links"]
    rows = [{name: link.get(name) for name in schema.names} for link in links]
    replace_table(ws.lake, "identity_links", pa.Table.from_pylist(rows, schema=schema))
