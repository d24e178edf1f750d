from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest
from deltalake import write_deltalake

from tandem import Workspace
from tandem.lake.schema import EVENTS, EVENTS_SCHEMA

# Ibis 12 reading the lake calls a DuckDB method DuckDB 2 deprecates (in tandem.lake's reads).
pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")


def _store(ws: Workspace, source: str, count: int, prefix: str) -> None:
    """Append `count` track events of `source` to the lake's events table (one commit)."""
    now = datetime(2026, 11, 1, 10, tzinfo=UTC)
    rows = [
        {
            "source": source,
            "message_id": f"{prefix}-{i}",
            "type": "track",
            "user_id": f"{prefix}-{i % 7}",
            "event": "Viewed product",
            "timestamp": now,
            "received_at": now,
            "ingested_at": now,
        }
        for i in range(count)
    ]
    ws.lake.table(EVENTS)  # created on first use
    write_deltalake(
        ws.lake.table_path(EVENTS), pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA), mode="append"
    )


def _sources(ws: Workspace) -> None:
    ws.sources.add("webshop", kind="web", owners=["marketing"])
    ws.sources.add("mobile-app", kind="app", owners=["marketing", "it"])
    ws.sources.add("staff-portal", kind="hr", owners=["hr"])
    _store(ws, "webshop", 30, "w")
    _store(ws, "mobile-app", 12, "a")
    _store(ws, "staff-portal", 5, "h")


def test_no_source_is_an_empty_state_with_the_next_step(login: Any) -> None:
    page = login("admin@harbour.example").get("/customers")
    assert page.status_code == 200
    assert "No channel source yet." in page.text
    assert "tandem sources add web --kind web --owner marketing" in page.text
    assert "No profiles yet." in page.text and "tandem resolve" in page.text


def test_admins_see_every_source_with_its_volume_by_channel(login: Any, demo_ws: Workspace) -> None:
    _sources(demo_ws)
    page = login("admin@harbour.example").get("/customers").text
    for name, volume in (("webshop", "30"), ("mobile-app", "12"), ("staff-portal", "5")):
        row = page.split(f"<td>{name}</td>")[1].split("</tr>")[0]
        assert f'<td class="num">{volume}</td>' in row
    assert "marketing, it" in page
    assert 'id="channel-chart"' in page
    overview = login("admin@harbour.example").get("/").text
    assert "47" in overview.split('id="overview-customers"')[1].split("</section>")[0]


def test_customer_data_stays_with_the_owning_functions(login: Any, demo_ws: Workspace) -> None:
    _sources(demo_ws)
    marketing = login("mia@harbour.example").get("/customers").text
    assert "<td>webshop</td>" in marketing and "<td>mobile-app</td>" in marketing
    assert "<td>staff-portal</td>" not in marketing
    assert "1 more source belongs to functions whose data you cannot see" in marketing
    hr = login("hal@harbour.example").get("/customers").text
    assert "<td>staff-portal</td>" in hr
    assert "<td>webshop</td>" not in hr and "<td>mobile-app</td>" not in hr


def test_volumes_follow_new_data(login: Any, demo_ws: Workspace) -> None:
    _sources(demo_ws)
    client = login("admin@harbour.example")
    assert '<td class="num">30</td>' in client.get("/customers").text
    _store(demo_ws, "webshop", 40, "w")
    page = client.get("/customers").text
    row = page.split("<td>webshop</td>")[1].split("</tr>")[0]
    assert '<td class="num">40</td>' in row  # w-0..w-29 again are duplicates, stored once
