"""Every route needs a session or a token, except health, sign-in, docs and the ingest API."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.server.api.support import Api

OPEN = {
    ("GET", "/api/health"),
    ("POST", "/api/session"),
}
"""Open on purpose: liveness, and signing in itself."""

OPEN_PREFIXES = ("/v1/",)
"""Segment-compatible ingest: authenticated by the source's write key, not a user."""

API_PREFIX = "/api/"


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """(path, methods, route) of every FastAPI route, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            yield context.path, set(route.methods), route


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_api_route_refuses_an_anonymous_call(api: Api) -> None:
    checked = 0
    for path, methods, _route in api_routes(api.app):
        for method in sorted(methods - {"HEAD"}):
            if (method, path) in OPEN or path.startswith(OPEN_PREFIXES):
                continue
            if not path.startswith(API_PREFIX):
                continue  # pages: the next test
            answer = api.client.request(method, _sample(path))
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.json()["error"] == "not_authenticated"
            checked += 1
    assert checked >= 40


def test_open_routes_answer_without_credentials(api: Api) -> None:
    assert api.client.get("/api/health").json()["status"] == "ok"
    assert api.client.get("/api/openapi.json").status_code == 200


def test_pages_other_than_login_redirect_anonymous_visitors(api: Api) -> None:
    from tandem.server.deps import page_user

    paged = [
        path
        for path, methods, route in api_routes(api.app)
        if "GET" in methods and any(d.call is page_user for d in route.dependant.dependencies)
    ]
    for path in paged:
        answer = api.client.get(_sample(path), follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
