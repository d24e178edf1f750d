from __future__ import annotations

import html
import json
import re
from typing import Any

from tandem import Workspace


def _answer(ws: Workspace, function: str, agree: bool, works_with: list[str]) -> None:
    (token,) = ws.surveys.invite("pulse", 1)
    level = 5 if agree else 2
    ws.surveys.submit(
        token,
        function,
        None,
        {
            "right-people": level,
            "have-strategy": 4,
            "trust-skills": level,
            "marketing-it": level,
            "digital-it": 3,
            "marketing-digital": 4,
            "vision": "executive",
            "works-with": works_with,
        },
    )


def _survey(ws: Workspace) -> None:
    ws.surveys.create("pulse", "digital-pulse")
    for i in range(6):
        _answer(ws, "marketing", i < 4, ["it", "digital"])
    for i in range(5):
        _answer(ws, "it", i < 1, ["marketing"])
    _answer(ws, "hr", False, [])  # one HR answer: below the threshold, never shown


def test_without_collaboration_data_every_part_says_what_will_appear(login: Any) -> None:
    page = login("hal@harbour.example").get("/collaboration")
    assert page.status_code == 200
    assert "No survey results yet." in page.text
    assert "tandem survey create pulse --template digital-pulse" in page.text
    assert "No initiative yet." in page.text
    # The network exists from shared responsibilities alone: the graph is drawn.
    assert 'id="network-chart"' in page.text


def test_survey_results_show_intervals_and_mark_suppressed_groups(
    login: Any, demo_ws: Workspace
) -> None:
    _survey(demo_ws)
    page = login("hal@harbour.example").get("/collaboration").text
    results = demo_ws.surveys.results("pulse")
    right = results.question("right-people").overall.agree
    assert right is not None and right.n == 12
    low, high = round(100 * right.low), round(100 * right.high)
    assert f"{round(100 * right.share)}%" in page
    assert f"{low}\u2013{high}%" in page  # an en dash between the bounds
    assert "21%" in page  # Forrester: the right people define the strategy
    names = {f.key: f.name for f in demo_ws.ownership.model().functions}
    by_function = page.split("<h3>By function</h3>")[1].replace("&amp;", "&")
    row = r"<th scope=\"row\">{}</th>(.*?)</tr>"
    hr_row = re.search(row.format(re.escape(names["hr"])), by_function, re.S)
    assert hr_row and hr_row.group(1).count('class="num suppressed"') == 6
    marketing_row = re.search(row.format(re.escape(names["marketing"])), by_function, re.S)
    assert marketing_row and "67%" in marketing_row.group(1) and "(n=6)" in marketing_row.group(1)
    # The chart carries the interval as error bars.
    figure = json.loads(
        html.unescape(re.search(r'data-figure="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    )
    bars = figure["data"][0]
    i = bars["x"].index("The right people define<br>our digital strategy.")
    assert abs(bars["y"][i] - 100 * right.share) < 1e-9
    assert abs(bars["error_y"]["array"][i] - 100 * (right.high - right.share)) < 1e-9
    assert abs(bars["error_y"]["arrayminus"][i] - 100 * (right.share - right.low)) < 1e-9


def test_initiatives_show_their_kpi_progress(login: Any, demo_ws: Workspace) -> None:
    demo_ws.initiatives.add(
        "click-collect-app",
        title="Click & collect in the app",
        owners=["marketing", "it"],
        customer_facing=True,
        status="active",
    )
    demo_ws.initiatives.add_kpi(
        "click-collect-app", "orders", name="Weekly app orders", target=500, baseline=100
    )
    demo_ws.initiatives.report("click-collect-app", "orders", 300)
    page = login("hal@harbour.example").get("/collaboration").text
    assert "Click &amp; collect in the app" in page
    assert "Weekly app orders: 300.0 / target 500.0" in page
    assert "50% of the way" in page
    assert 'id="kpi-chart"' in page
