"""Accounts fixtures: argon2 with cheap parameters so tests hash in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from tandem.accounts import passwords

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hasher() -> Iterator[PasswordHasher]:
    previous = passwords.use_hasher(CHEAP)
    yield CHEAP
    passwords.use_hasher(previous)
