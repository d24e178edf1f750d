"""Fixtures for the page tests: the demo company served in-process, with three users.

- admin@harbour.example   admin, digital team
- mia@harbour.example     editor, marketing
- hal@harbour.example     viewer, HR
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher

from tandem import Workspace
from tandem.accounts import passwords
from tandem.demo.company import demo_ownership
from tandem.server import create_app

with warnings.catch_warnings():  # starlette warns about httpx at import time
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "harbour-and-vine-demo-pass"
USERS = {
    "admin@harbour.example": ("digital", "admin"),
    "mia@harbour.example": ("marketing", "editor"),
    "hal@harbour.example": ("hr", "viewer"),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HX_CSRF = re.compile(r'hx-headers=\'\{"X-CSRF-Token": "([^"]+)"\}\'')


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 with small parameters: the same code path, milliseconds instead of seconds."""
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(previous)


@pytest.fixture
def demo_ws(tmp_path: Path, fresh_database_url: Callable[[], str | None]) -> Iterator[Workspace]:
    """The demo company's ownership model only (no survey, source or initiative yet: tests add
    what they need, and the empty states are what the pages show without them)."""
    ws = Workspace.init(
        tmp_path / "demo", company="Harbour & Vine", database_url=fresh_database_url()
    )
    model = tmp_path / "ownership.yaml"
    model.write_text(yaml.safe_dump(demo_ownership(7), sort_keys=False), encoding="utf-8")
    ws.ownership.import_file(model)
    for email, (function, role) in USERS.items():
        ws.accounts.add(email, function=function, role=role, password=PASSWORD)
    yield ws
    ws.close()


@pytest.fixture
def anonymous(demo_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(demo_ws), follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = CSRF.search(html) or HX_CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "/") -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next},
    )


@pytest.fixture
def login(demo_ws: Workspace) -> Iterator[Callable[[str], TestClient]]:
    """Factory: a client signed in as one of USERS."""
    clients: list[TestClient] = []

    def make(email: str) -> TestClient:
        client = TestClient(create_app(demo_ws), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        response = log_in(client, email)
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
