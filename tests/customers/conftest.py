"""Fixtures of the customer-data tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.customers.identity_helpers import OPENED


@pytest.fixture(autouse=True)
def _close_reopened_workspaces() -> Iterator[None]:
    """Close what `identity_helpers.reopen` opened during the test."""
    yield
    while OPENED:
        OPENED.pop().close()
