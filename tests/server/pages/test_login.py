from __future__ import annotations

from typing import Any

from tandem.server.pages.login import safe_next
from tests.server.pages.conftest import PASSWORD, csrf_of, log_in


def test_a_page_without_a_session_redirects_to_login_and_back(anonymous: Any) -> None:
    response = anonymous.get("/ownership")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/ownership"
    signed_in = log_in(anonymous, "mia@harbour.example", next="/ownership")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/ownership"
    page = anonymous.get("/ownership")
    assert page.status_code == 200
    assert "mia@harbour.example · editor · marketing" in page.text


def test_a_wrong_password_shows_the_form_again_with_the_reason(anonymous: Any) -> None:
    response = log_in(anonymous, "mia@harbour.example", password="not-the-password")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert 'value="mia@harbour.example"' in response.text
    assert anonymous.get("/").status_code == 303


def test_too_many_attempts_is_a_429_page_that_says_to_wait(anonymous: Any) -> None:
    statuses = [
        log_in(anonymous, "hal@harbour.example", password="wrong-wrong-wrong").status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    blocked = log_in(anonymous, "hal@harbour.example", password=PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert "<form" in blocked.text  # the page, not a JSON error


def test_login_without_the_csrf_token_is_refused(anonymous: Any) -> None:
    anonymous.get("/login")
    response = anonymous.post(
        "/login", data={"email": "mia@harbour.example", "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 403
    assert anonymous.get("/").status_code == 303


def test_logout_ends_the_session(login: Any) -> None:
    client = login("admin@harbour.example")
    token = csrf_of(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?bye=1"
    assert client.get("/").status_code == 303
    assert "You are logged out." in client.get("/login?bye=1").text


def test_next_only_leads_to_this_site() -> None:
    assert safe_next("/customers?x=1") == "/customers?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(bad) == "/"
