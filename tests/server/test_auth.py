"""Sign-in, the session cookie, CSRF, bearer tokens, the rate limit, redirects to /login."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, Form, Request

from tandem import Workspace
from tandem.server.app import create_app
from tandem.server.auth import SECRET_FILE, csrf_token, session_secret
from tandem.server.deps import CsrfChecked, PageUser
from tests.server.api.support import PASSWORD, TestClient, add_users, cheap_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with cheap_hashing():
        yield


def _pages() -> APIRouter:
    """Two tiny pages standing in for H7's, to exercise PageUser and CsrfChecked."""
    router = APIRouter()

    @router.get("/test-page")
    def page(user: PageUser, request: Request) -> dict[str, str]:
        return {"email": user.email, "csrf": csrf_token(request)}

    @router.post("/test-form")
    def form(user: PageUser, _csrf: CsrfChecked, note: Annotated[str, Form()]) -> dict[str, str]:
        return {"email": user.email, "note": note}

    return router


@pytest.fixture
def app(workspace: Workspace) -> FastAPI:
    add_users(workspace)
    app = create_app(workspace)
    app.include_router(_pages())
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://tandem.test") as client:
        yield client


def sign_in(client: TestClient, email: str = "marketing@example.com") -> str:
    answer = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf_token"])


def test_sign_in_sets_an_http_only_lax_signed_cookie(client: TestClient) -> None:
    answer = client.post(
        "/api/session", json={"email": "Marketing@Example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["email"], body["function"], body["role"]) == (
        "marketing@example.com",
        "marketing",
        "editor",
    )
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("tandem_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/api/session").json()["email"] == "marketing@example.com"


def test_the_cookie_is_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://tandem.test") as client:
        answer = client.post("/api/session", json={"email": "it@example.com", "password": PASSWORD})
    assert "; Secure" in answer.headers["set-cookie"]


def test_a_tampered_cookie_is_no_session(client: TestClient) -> None:
    sign_in(client)
    value = client.cookies["tandem_session"]
    client.cookies.clear()
    client.cookies.set("tandem_session", value[:-2] + "xx", domain="tandem.test")
    assert client.get("/api/session").status_code == 401


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient) -> None:
    wrong = client.post("/api/session", json={"email": "it@example.com", "password": "nope-nope"})
    unknown = client.post("/api/session", json={"email": "x@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"] == "email or password is wrong"
    assert "set-cookie" not in wrong.headers


def test_sign_in_is_rate_limited_per_email_and_client(client: TestClient) -> None:
    bad = {"email": "it@example.com", "password": "wrong password"}
    codes = [client.post("/api/session", json=bad).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    refused = client.post("/api/session", json={"email": "it@example.com", "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, until the window slides
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"] == "too_many_attempts"
    # another account from the same client is not affected
    assert (
        client.post(
            "/api/session", json={"email": "hr@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_session_calls_that_change_things_need_the_csrf_header(client: TestClient) -> None:
    csrf = sign_in(client)
    refused = client.post("/api/me/tokens", json={"name": "laptop"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = client.post("/api/me/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    made = client.post("/api/me/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["token"].startswith("tdm_")


def test_bearer_tokens_need_no_csrf_and_bad_ones_are_401(
    client: TestClient, workspace: Workspace
) -> None:
    _, secret = workspace.accounts.create_token("it@example.com", "script")
    answer = client.post(
        "/api/me/tokens", json={"name": "other"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 201
    bad = client.get("/api/me/tokens", headers={"Authorization": "Bearer tdm_nope_nope_nope_nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    workspace.accounts.revoke_token("it@example.com", "script")
    gone = client.get("/api/me/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401


def test_a_disabled_users_session_ends(client: TestClient, workspace: Workspace) -> None:
    sign_in(client, "hr@example.com")
    workspace.accounts.update("hr@example.com", disabled=True)
    assert client.get("/api/session").status_code == 401


def test_a_password_change_ends_existing_sessions(client: TestClient, workspace: Workspace) -> None:
    sign_in(client, "it@example.com")
    assert client.get("/api/session").status_code == 200
    workspace.accounts.update("it@example.com", password="a brand new passphrase")
    assert client.get("/api/session").status_code == 401
    assert (
        client.post(
            "/api/session", json={"email": "it@example.com", "password": "a brand new passphrase"}
        ).status_code
        == 200
    )
    assert client.get("/api/session").status_code == 200


def test_sign_out_clears_the_session(client: TestClient) -> None:
    csrf = sign_in(client)
    out = client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/api/session").status_code == 401


def test_pages_redirect_to_login_with_where_they_were(client: TestClient) -> None:
    answer = client.get("/test-page?tab=matrix", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/test-page%3Ftab%3Dmatrix"


def test_forms_need_the_sessions_csrf_token(client: TestClient) -> None:
    sign_in(client)
    csrf = client.get("/test-page").json()["csrf"]
    assert client.post("/test-form", data={"note": "hi"}).status_code == 403
    assert client.post("/test-form", data={"note": "hi", "csrf_token": "forged"}).status_code == 403
    ok = client.post("/test-form", data={"note": "hi", "csrf_token": csrf})
    assert ok.status_code == 200 and ok.json() == {"email": "marketing@example.com", "note": "hi"}
    htmx = client.post("/test-form", data={"note": "x"}, headers={"X-CSRF-Token": csrf})
    assert htmx.status_code == 200


def test_a_new_sign_in_gets_a_new_csrf_token(client: TestClient) -> None:
    first = sign_in(client)
    second = sign_in(client, "it@example.com")
    assert first != second


def test_the_session_secret_is_made_once_private_and_ignored_by_git(workspace: Workspace) -> None:
    secret = session_secret(workspace)
    path = workspace.root / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (path.parent / ".gitignore").read_text() == "*\n"
    assert len(secret) >= 48 and session_secret(workspace) == secret
    other = create_app(workspace)  # a second app (process) of the same workspace agrees
    assert other is not None and session_secret(workspace) == secret


def test_a_cross_site_form_cannot_sign_in_through_the_api(client: TestClient) -> None:
    # A form on another site can send text/plain (no preflight) but not application/json.
    body = f'{{"email": "it@example.com", "password": "{PASSWORD}"}}'
    answer = client.post("/api/session", content=body, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert "set-cookie" not in answer.headers


def test_the_openapi_document_names_both_ways_to_authenticate(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token: tdm_...",
    }
    assert schemes["session"]["in"] == "cookie" and schemes["session"]["name"] == "tandem_session"
    matrix = document["paths"]["/api/ownership/matrix"]["get"]
    assert {"token": []} in matrix["security"] and {"session": []} in matrix["security"]
    assert "security" not in document["paths"]["/api/session"]["post"]
