"""API fixtures: a workspace with one user per (function, role) that matters, and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tandem import Workspace
from tandem.server.app import create_app
from tests.server.api.support import Api, TestClient, add_users, cheap_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with cheap_hashing():
        yield


@pytest.fixture
def api(workspace: Workspace) -> Iterator[Api]:
    add_users(workspace)
    app = create_app(workspace)
    with TestClient(app, base_url="http://tandem.test") as client:
        yield Api(workspace, client, app)
