from __future__ import annotations

from typing import Any

from tandem import Workspace
from tests.server.pages.conftest import csrf_of

ANSWERS = {
    "function": "marketing",
    "right-people": "4",
    "have-strategy": "5",
    "trust-skills": "2",
    "marketing-it": "4",
    "digital-it": "3",
    "marketing-digital": "4",
    "vision": "executive",
    "works-with": ["it", "digital"],
}


def _token(ws: Workspace) -> str:
    ws.surveys.create("pulse", "digital-pulse")
    (token,) = ws.surveys.invite("pulse", 1)
    return str(token)


def test_an_invitation_opens_the_form_without_a_login(anonymous: Any, demo_ws: Workspace) -> None:
    token = _token(demo_ws)
    page = anonymous.get(f"/s/{token}")
    assert page.status_code == 200
    assert "Marketing and IT work well together on digital." in page.text
    assert page.text.count('name="right-people"') == 5  # the 5-point scale
    assert 'type="checkbox" name="works-with" value="it"' in page.text
    assert "never with your name" in page.text


def test_answers_are_stored_once_and_the_link_is_spent(anonymous: Any, demo_ws: Workspace) -> None:
    token = _token(demo_ws)
    csrf = csrf_of(anonymous.get(f"/s/{token}").text)
    sent = anonymous.post(f"/s/{token}", data={**ANSWERS, "csrf_token": csrf})
    assert sent.status_code == 200 and "Thank you" in sent.text
    results = demo_ws.surveys.results("pulse")
    assert results.respondents == 1
    again = anonymous.get(f"/s/{token}")
    assert again.status_code == 404 and "This survey link cannot be used" in again.text
    resent = anonymous.post(f"/s/{token}", data={**ANSWERS, "csrf_token": csrf})
    assert resent.status_code == 404
    assert demo_ws.surveys.results("pulse").respondents == 1


def test_invalid_answers_are_shown_with_what_to_fix_and_nothing_is_stored(
    anonymous: Any, demo_ws: Workspace
) -> None:
    token = _token(demo_ws)
    csrf = csrf_of(anonymous.get(f"/s/{token}").text)
    answers = {**ANSWERS, "function": "", "csrf_token": csrf}
    response = anonymous.post(f"/s/{token}", data=answers)
    assert response.status_code == 400
    assert "nothing was recorded" in response.text
    assert "<li>" in response.text.split('role="alert"')[1]
    assert 'value="4" checked' in response.text  # what was filled in stays
    assert demo_ws.surveys.results("pulse").respondents == 0
    assert anonymous.get(f"/s/{token}").status_code == 200  # the link still works


def test_a_post_without_the_csrf_token_is_refused(anonymous: Any, demo_ws: Workspace) -> None:
    token = _token(demo_ws)
    response = anonymous.post(f"/s/{token}", data=ANSWERS)
    assert response.status_code == 403
    assert demo_ws.surveys.results("pulse").respondents == 0


def test_an_unknown_link_is_a_clear_page(anonymous: Any, demo_ws: Workspace) -> None:
    response = anonymous.get("/s/not-a-real-token")
    assert response.status_code == 404
    assert "This survey link cannot be used" in response.text
