from __future__ import annotations

from typing import Any

from tandem import Workspace


def test_the_overview_shows_findings_and_an_empty_state_for_each_missing_part(
    login: Any, demo_ws: Workspace
) -> None:
    page = login("hal@harbour.example").get("/")
    assert page.status_code == 200
    text = page.text
    for finding in demo_ws.ownership.findings():
        assert finding.title.replace("&", "&amp;") in text
    ownership = text.split('id="overview-ownership"')[1].split("</section>")[0]
    assert f"<b>{len(demo_ws.ownership.findings())}</b>" in ownership
    shared = sum(1 for cap in demo_ws.ownership.model().capabilities if len(cap.holders("RA")) >= 2)
    assert f"<b>{shared}/{len(demo_ws.ownership.model().capabilities)}</b>" in ownership
    assert "No survey results yet." in text
    assert "No channel source yet." in text
    assert "No campaign measured yet." in text
    assert "No digital initiative recorded yet." in text
    for href in ("/ownership", "/collaboration", "/customers", "/campaigns"):
        assert f'href="{href}"' in text


def test_the_campaigns_page_explains_what_issue_5_brings(login: Any) -> None:
    page = login("hal@harbour.example").get("/campaigns")
    assert page.status_code == 200
    assert "No campaign yet." in page.text
    assert "hold-out groups" in page.text
    assert 'aria-current="page"' in page.text.split('href="/campaigns"')[1][:40]


def test_assets_are_served_locally(anonymous: Any) -> None:
    css = anonymous.get("/static/tandem.css")
    assert css.status_code == 200 and "table.matrix" in css.text
    htmx = anonymous.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
    plotly = anonymous.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and "plotly.js v" in plotly.text[:200]
    login_page = anonymous.get("/login").text
    assert "http://" not in login_page and "https://" not in login_page
