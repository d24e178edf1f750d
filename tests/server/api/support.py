"""Helpers of the API, auth and policy tests: cheap argon2, a workspace with users, a client.

Starlette's TestClient warns at import that it prefers the `httpx2` package; it works with httpx.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI

from tandem import Workspace
from tandem.accounts import passwords

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # StarletteDeprecationWarning: it prefers httpx2
    from starlette.testclient import TestClient

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"

USERS = {
    "admin@example.com": ("it", "admin"),
    "marketing@example.com": ("marketing", "editor"),
    "it@example.com": ("it", "editor"),
    "hr@example.com": ("hr", "editor"),
    "digital@example.com": ("digital", "editor"),
    "viewer@example.com": ("marketing", "viewer"),
}


@contextmanager
def cheap_hashing() -> Iterator[None]:
    previous = passwords.use_hasher(CHEAP)
    try:
        yield
    finally:
        passwords.use_hasher(previous)


def add_users(ws: Workspace) -> None:
    for email, (function, role) in USERS.items():
        ws.accounts.add(email, function=function, role=role, password=PASSWORD)


@dataclass
class Api:
    """A workspace with the users above, its app, and a bearer token per user."""

    ws: Workspace
    client: TestClient
    app: FastAPI
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            _, secret = self.ws.accounts.create_token(email, "tests")
            self.tokens[email] = secret
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def call(self, email: str, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.as_(email), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)
