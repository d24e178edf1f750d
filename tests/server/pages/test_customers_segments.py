"""The customers page's Segments card: every segment the user may read, with its owners, latest
size and reference date and its size over time (from the recorded evaluations), and the
explained empty state when there is none."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tandem import Workspace
from tandem.accounts import policy
from tandem.reporting import dashboard
from tests.campaigns import campaign_data as cd

# Ibis 12 reading the lake calls a DuckDB method DuckDB 2 deprecates (in tandem.lake's reads).
pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")

DAY = timedelta(days=1)
BUYERS = {
    "name": "buyers",
    "description": "Ordered at least once",
    "owners": ["marketing", "it"],
    "where": {"event": "Order Completed"},
}
"""Orders (campaign_data): cus_1 and cus_5 before T, cus_1, cus_3 and cus_4 by T+3d, cus_6 at
T+5d: 2 buyers as of T, 4 as of T+3d, 5 as of T+6d."""


@pytest.fixture
def resolved(demo_ws: Workspace, tmp_path: Path) -> Workspace:
    """The demo workspace with six resolved customers and their orders."""
    cd.build(demo_ws, tmp_path)
    return demo_ws


def _card(page: str) -> str:
    assert '<section class="card" id="segments">' in page
    return page.split('<section class="card" id="segments">')[1].split("</section>")[0]


def _row(card: str, name: str) -> str:
    assert f'<tr id="segment-{name}">' in card, f"no row for segment {name}"
    return card.split(f'<tr id="segment-{name}">')[1].split("</tr>")[0]


def _figure(row: str, name: str) -> dict[str, Any]:
    match = re.search(rf'id="segment-chart-{name}"[^>]* data-figure="([^"]*)"', row)
    assert match, f"no size chart for segment {name}"
    figure: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return figure


def test_no_segment_is_an_empty_state_with_the_next_step(login: Any) -> None:
    card = _card(login("admin@harbour.example").get("/customers").text)
    assert "No segment yet." in card
    assert "tandem segment create FILE" in card and "docs/segments.md" in card
    assert "arrive with the segments module" not in card
    assert "<table" not in card


def test_a_segment_with_its_latest_size_and_size_over_time(login: Any, resolved: Workspace) -> None:
    # evaluated out of time order: the latest evaluation (as of T+3d) is the size shown, the
    # chart runs in time order of the reference dates
    resolved.segments.create(BUYERS, as_of=cd.T + 6 * DAY)
    resolved.segments.evaluate("buyers", as_of=cd.T)
    resolved.segments.evaluate("buyers", as_of=cd.T + 3 * DAY)
    resolved.segments.create(
        {"name": "later", "owners": ["marketing"], "where": {"event": "Email Opened"}},
        evaluate=False,
    )
    page = login("mia@harbour.example").get("/customers").text
    card = _card(page)
    assert "No segment yet." not in card
    row = _row(card, "buyers")
    assert "<strong>buyers</strong>" in row and "Ordered at least once" in row
    assert "<td>marketing, it</td>" in row
    assert '<td class="num">4</td>' in row
    assert "2026-03-04" in row  # the latest evaluation's reference date (T+3d)
    assert "3 evaluations" in row
    figure = _figure(row, "buyers")
    line = figure["data"][0]
    assert [x[:10] for x in line["x"]] == ["2026-03-01", "2026-03-04", "2026-03-07"]
    assert line["y"] == [2, 4, 5]
    assert [c[0] for c in line["customdata"]] == [2, 3, 1]  # evaluation numbers
    # the page loads the chart library for it
    assert "/static/vendor/plotly.min.js" in page
    # a segment never evaluated says so, with the command that evaluates it, and has no chart
    later = _row(card, "later")
    assert "Not evaluated yet" in later and "tandem segment evaluate later" in later
    assert "data-figure" not in later
    # sizes only: no member of the segment appears on the card
    assert "cus_" not in card


def test_a_segment_the_user_may_not_read_is_not_shown(
    login: Any, resolved: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved.segments.create(BUYERS, as_of=cd.T)
    resolved.segments.create(
        {"name": "staff-buyers", "owners": ["hr"], "where": {"event": "Order Completed"}},
        as_of=cd.T,
    )
    # The policy lets every signed-in user read every segment (definitions and sizes)...
    viewer = _card(login("hal@harbour.example").get("/customers").text)
    assert 'id="segment-buyers"' in viewer and 'id="segment-staff-buyers"' in viewer
    # ...and the card follows the policy: where viewers may read only their functions'
    # segments, the HR viewer sees HR's and not marketing's
    owners_only = {"admin": policy._ALL, "editor": policy._ALL, "viewer": policy._OWNERS}
    monkeypatch.setitem(policy.POLICY, ("segment", "read"), owners_only)
    viewer = _card(login("hal@harbour.example").get("/customers").text)
    assert 'id="segment-staff-buyers"' in viewer
    assert 'id="segment-buyers"' not in viewer and "<strong>buyers</strong>" not in viewer
    assert "1 more segment you may not read" in viewer
    editor = _card(login("mia@harbour.example").get("/customers").text)
    assert 'id="segment-buyers"' in editor and 'id="segment-staff-buyers"' in editor
    # none readable: the empty state says why, not "no segment yet"
    monkeypatch.setitem(
        policy.POLICY,
        ("segment", "read"),
        {"admin": policy._ALL, "editor": policy._ALL, "viewer": policy._NOBODY},
    )
    viewer = _card(login("hal@harbour.example").get("/customers").text)
    assert "No segment you may read." in viewer and "2 segment(s) exist" in viewer
    assert "No segment yet." not in viewer and "<table" not in viewer


@pytest.fixture
def statements(demo_ws: Workspace) -> Iterator[list[str]]:
    """The SQL statements the metadata store runs while the fixture is active."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(demo_ws.db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(demo_ws.db.engine, "before_cursor_execute", record)


def test_the_card_reads_the_metadata_once_whatever_the_number_of_segments(
    resolved: Workspace, statements: list[str]
) -> None:
    resolved.segments.create(BUYERS, as_of=cd.T)
    statements.clear()
    one = dashboard.segments_section(resolved)
    few = len(statements)
    assert few > 0 and any("segment_evaluations" in s for s in statements)
    assert [(s.name, s.size) for s in one.segments] == [("buyers", 2)]
    for i in range(3):
        resolved.segments.create(
            {"name": f"buyers-{i}", "owners": ["it"], "where": {"event": "Order Completed"}},
            as_of=cd.T + 3 * DAY,
        )
        resolved.segments.evaluate(f"buyers-{i}", as_of=cd.T + 6 * DAY)
    statements.clear()
    four = dashboard.segments_section(resolved)
    assert len(statements) == few
    assert [(s.name, s.size, s.evaluations) for s in four.segments] == [
        ("buyers", 2, 1),
        ("buyers-0", 5, 2),
        ("buyers-1", 5, 2),
        ("buyers-2", 5, 2),
    ]


def test_sizes_of_a_segment_over_personal_traits_need_personal_data_access(
    login: Any, resolved: Workspace
) -> None:
    resolved.segments.create(
        {
            "name": "one-person",
            "owners": ["marketing"],
            "where": {"trait": "email", "op": "exists"},
        },
        as_of=cd.T,
    )
    resolved.segments.create(BUYERS, as_of=cd.T)
    # a viewer may read segments but not marketing's personal data: no size, no chart, the reason
    viewer = _card(login("hal@harbour.example").get("/customers").text)
    row = _row(viewer, "one-person")
    assert "Sizes withheld" in row and "email" in row and "segment-chart-one-person" not in row
    assert "segment-chart-buyers" in _row(viewer, "buyers")
    # marketing's editor may: the size and its chart
    editor = _row(_card(login("mia@harbour.example").get("/customers").text), "one-person")
    assert "Sizes withheld" not in editor and "segment-chart-one-person" in editor
