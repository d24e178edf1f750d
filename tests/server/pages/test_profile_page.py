"""The profile page and the profiles card of the customers page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tandem import Workspace
from tandem.customers.identity import Link
from tandem.customers.profiles import build_profiles
from tests.customers.profile_data import NOW, build_lake

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:`partition_filters` is deprecated:DeprecationWarning"),
]


@pytest.fixture
def built(demo_ws: Workspace, tmp_path: Path) -> Workspace:
    build_lake(demo_ws, tmp_path)  # crm and web, owned by marketing
    build_profiles(demo_ws, now=NOW, run=1)
    return demo_ws


def test_customers_page_lists_profiles_and_searches(login: Any, built: Workspace) -> None:
    page = login("mia@harbour.example").get("/customers").text
    card = page.split('id="profiles"')[1].split("</section>")[0]
    assert "4 profile(s) you may see" in card
    assert 'href="/customers/profile?q=cus_a"' in card and "Ann Lee" in card
    assert 'action="/customers/profile"' in card
    hr = login("hal@harbour.example").get("/customers").text
    assert "0 profile(s) you may see" in hr.split('id="profiles"')[1]


def test_profile_page_shows_what_profile_show_shows(login: Any, built: Workspace) -> None:
    client = login("mia@harbour.example")
    page = client.get("/customers/profile", params={"q": "ann@x.example"})
    assert page.status_code == 200
    html = page.text
    assert "Ann Lee" in html and "cus_a" in html
    assert "<td>firstName</td><td>Ann</td><td>crm</td>" in html
    shared = Link(kind="identifier", id_type="email", id_value="ann@x.example", records=2)
    assert shared.describe() in html
    assert "Older ids merged into this one: cus_old." in html
    assert "533" in html and "opted out" in html
    merged = client.get("/customers/profile", params={"q": "cus_old"}).text
    assert "cus_old was merged into cus_a." in merged


def test_profile_page_errors(login: Any, built: Workspace) -> None:
    client = login("mia@harbour.example")
    missing = client.get("/customers/profile", params={"q": "zed@x.example"})
    assert missing.status_code == 404 and "no customer has that email" in missing.text
    assert client.get("/customers/profile").status_code == 303
    # a profile HR may not see is not found, as a customer that does not exist
    hr = login("hal@harbour.example").get("/customers/profile", params={"q": "cus_a"})
    assert hr.status_code == 404 and "no customer has that customer id" in hr.text
