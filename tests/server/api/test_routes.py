"""Every route needs a session or a token, except health, sign-in, the ingest API (write key),
the survey form (its invitation token) and static assets: walked over `app.routes`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.server.api.support import Api

OPEN = {
    ("GET", "/api/health"),  # liveness
    ("POST", "/api/session"),  # signing in
    ("GET", "/login"),
    ("POST", "/login"),  # signing in (CSRF-checked)
    ("GET", "/s/{token}"),  # the anonymous survey form: the invitation token is the credential
    ("POST", "/s/{token}"),
}
OPEN_PREFIXES = (
    "/v1/",  # Segment-compatible ingest: a source's write key, not a user
    "/static/",  # vendored JavaScript and CSS
)


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every FastAPI route, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            yield context.path, set(route.methods), route


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_refuses_an_anonymous_call(api: Api) -> None:
    checked: dict[str, int] = {"api": 0, "pages": 0}
    for path, methods, _route in api_routes(api.app):
        for method in sorted(methods - {"HEAD"}):
            if (method, path) in OPEN or path.startswith(OPEN_PREFIXES):
                continue
            answer = api.client.request(method, _sample(path), follow_redirects=False)
            if path.startswith("/api/"):
                assert answer.status_code == 401, (method, path, answer.status_code)
                assert answer.json()["error"] == "not_authenticated"
                checked["api"] += 1
            elif answer.status_code == 303:
                assert answer.headers["location"].startswith("/login?next="), (method, path)
                checked["pages"] += 1
            else:  # a form post without a session fails its CSRF check first
                assert answer.status_code in (401, 403), (method, path, answer.status_code)
                checked["pages"] += 1
    assert checked["api"] >= 60
    assert checked["pages"] >= 5


def test_open_routes_answer_without_credentials(api: Api) -> None:
    assert api.client.get("/api/health").json()["status"] == "ok"
    assert api.client.get("/api/openapi.json").status_code == 200
    wrong = api.client.post("/api/session", json={"email": "a@b.co", "password": "x"})
    assert wrong.status_code == 401
