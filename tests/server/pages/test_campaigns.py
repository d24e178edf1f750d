"""The campaigns page: results of a campaign, and a chart that shows what the verdict rests on
(the CUPED-adjusted lift when CUPED applies) at the campaign's confidence level."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tandem import Workspace
from tandem.reporting import dashboard
from tests.campaigns import campaign_data as cd

PEOPLE = 80
FIGURE = re.compile(r'id="lift-spring" data-figure="([^"]*)"')


def _messages() -> list[dict[str, Any]]:
    """Customers whose orders before the campaign predict their orders during it (every fifth
    orders twice in the pre-period and twice in the window): the pre-period covariate of the
    `orders` metric makes CUPED's interval much narrower than the plain one. The offer (even
    numbers) adds an order for every third of its customers."""
    out: list[dict[str, Any]] = []
    for i in range(1, PEOPLE + 1):
        out.append(
            {
                "messageId": f"id{i}",
                "type": "identify",
                "userId": f"u{i}",
                "timestamp": cd._ts(-60 * cd.DAY),
                "traits": {"email": f"p{i}@x.example"},
            }
        )
        if i % 5 == 0:
            for k in (1, 2):
                out.append(cd._order(f"p{i}-{k}", f"u{i}", -k * 5 * cd.DAY, 10))
                out.append(cd._order(f"w{i}-{k}", f"u{i}", k * 3 * cd.DAY, 10))
        if i % 2 == 0 and i % 3 == 0:
            out.append(cd._order(f"t{i}", f"u{i}", 2 * cd.DAY, 30))
    return out


@pytest.fixture
def campaign(demo_ws: Workspace, tmp_path: Path) -> Workspace:
    cd.build(demo_ws, tmp_path, _messages())
    customers = [f"cus_{i}" for i in range(1, PEOPLE + 1)]
    demo_ws.campaigns.create(cd.definition(customers=customers))
    arms = tmp_path / "arms.csv"
    arms.write_text(
        "customer_id,arm\n"
        + "".join(f"{c},{'offer' if int(c[4:]) % 2 == 0 else 'control'}\n" for c in customers),
        encoding="utf-8",
    )
    demo_ws.campaigns.import_assignments("spring", arms, at=cd.T)
    return demo_ws


def _figure(page: str) -> dict[str, Any]:
    match = FIGURE.search(page)
    assert match, "no lift chart on the page"
    figure: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return figure


def _drawn(figure: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    """label -> (lift, low, high) in percent, as the chart draws them."""
    bar = figure["data"][0]
    error = bar["error_y"]
    return {
        label.replace("<br>", " "): (y, y - minus, y + plus)
        for label, y, plus, minus in zip(
            bar["x"], bar["y"], error["array"], error["arrayminus"], strict=True
        )
    }


def test_the_chart_draws_the_interval_the_verdict_rests_on(campaign: Workspace, login: Any) -> None:
    page = login("hal@harbour.example").get("/campaigns")
    assert page.status_code == 200
    found = campaign.campaigns.results("spring")
    orders = found.metric("orders").comparisons["offer"]
    assert orders.cuped_absolute is not None and orders.cuped_absolute.defined
    assert orders.cuped_relative is not None and orders.cuped_relative.defined
    # CUPED moves the interval: the page must show the adjusted one, not the plain one
    assert orders.cuped_relative.ci_high - orders.cuped_relative.ci_low < 0.9 * (
        orders.relative.ci_high - orders.relative.ci_low
    )
    figure = _figure(page.text)
    drawn = _drawn(figure)
    assert set(drawn) == {"purchased", "orders (CUPED)", "revenue"}
    lift, low, high = drawn["orders (CUPED)"]
    assert lift == pytest.approx(100 * orders.cuped_relative.estimate)
    assert low == pytest.approx(100 * orders.cuped_relative.ci_low)
    assert high == pytest.approx(100 * orders.cuped_relative.ci_high)
    revenue = found.metric("revenue").comparisons["offer"]
    assert revenue.cuped_absolute is None  # no covariate: the plain interval
    lift, low, high = drawn["revenue"]
    assert (low, high) == (
        pytest.approx(100 * revenue.relative.ci_low),
        pytest.approx(100 * revenue.relative.ci_high),
    )
    title = figure["layout"]["title"]["text"]
    assert title == (
        "spring: relative lift against control (95% interval, CUPED-adjusted where marked)"
    )
    assert "Absolute lift [95% CI]" in page.text
    assert "p-value (absolute lift)" in page.text
    # the page loads plotly.js, which draws the figure (without it the chart stayed blank)
    assert '<script src="/static/vendor/plotly.min.js"' in page.text


def test_the_title_names_the_level_and_the_estimate(campaign: Workspace) -> None:
    info = campaign.campaigns.get("spring")
    entry = dashboard.campaign_entry(campaign, info, alpha=0.1)
    assert entry["confidence"] == "90%"
    title = json.loads(entry["chart"])["layout"]["title"]["text"]
    assert "(90% interval, CUPED-adjusted where marked)" in title
    orders = campaign.campaigns.results("spring", alpha=0.1).metric("orders")
    (row,) = [r for r in entry["results"] if r["metric"] == "orders"]
    assert row["cuped_used"] is True
    assert row["chart_low"] == orders.comparisons["offer"].cuped_relative.ci_low

    # only CUPED rows, or none: the title says which, and no row is marked
    only = cd.definition(
        name="autumn",
        customers=[f"cus_{i}" for i in range(1, PEOPLE + 1)],
        metrics=[cd.definition()["metrics"][1]],
    )
    campaign.campaigns.create(only)
    campaign.campaigns.assign("autumn", at=cd.T)
    entry = dashboard.campaign_entry(campaign, campaign.campaigns.get("autumn"))
    figure = json.loads(entry["chart"])
    assert figure["layout"]["title"]["text"].endswith("(95% interval, CUPED-adjusted)")
    assert [x.replace("<br>", " ") for x in figure["data"][0]["x"]] == ["orders"]
    plain = cd.definition(
        name="winter",
        customers=[f"cus_{i}" for i in range(1, PEOPLE + 1)],
        metrics=[cd.definition()["metrics"][2]],
    )
    campaign.campaigns.create(plain)
    campaign.campaigns.assign("winter", at=cd.T)
    entry = dashboard.campaign_entry(campaign, campaign.campaigns.get("winter"))
    title = json.loads(entry["chart"])["layout"]["title"]["text"]
    assert title.endswith("(95% interval, unadjusted)")
