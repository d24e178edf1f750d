"""Segment's own Python SDK (segment-analytics-python) sends to a real `tandem serve`.

Slow-ish (starts a uvicorn subprocess): about 5 s.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import segment.analytics as analytics

from tandem import Workspace
from tests.server.ingest_support import Server


@pytest.fixture
def served(workspace: Workspace) -> tuple[Workspace, str, Server]:
    _, key = workspace.sources.add("web", kind="web", owners=["marketing"])
    return workspace, key, Server(workspace.root)


def test_every_sdk_message_is_stored(served: tuple[Workspace, str, Server]) -> None:
    workspace, key, server = served
    errors: list[Any] = []
    sent: dict[str, str] = {}
    with server:
        # The module-level API, as an application uses it, in sync mode (one request per call).
        analytics.write_key = key
        analytics.host = server.url
        analytics.sync_mode = True
        analytics.on_error = lambda error, batch: errors.append(error)
        try:
            calls = [
                analytics.identify("u1", {"email": "ada@example.com", "plan": "gold"}),
                analytics.track("u1", "Order Completed", {"total": 42.5, "items": 3}),
                analytics.page("u1", "Shop", "Home", {"path": "/"}),
                analytics.screen("u1", "App", "Basket"),
                analytics.group("u1", "acme", {"name": "Acme"}),
                analytics.alias("anon-7", "u1"),
            ]
        finally:
            analytics.default_client = None
            analytics.sync_mode = False
        for ok, message in calls:
            assert ok
            sent[message["messageId"]] = message["type"]

        # A client instance in the default batching mode, gzip on, flushed explicitly.
        client = analytics.Client(
            write_key=key, host=server.url, gzip=True, on_error=lambda e, b: errors.append(e)
        )
        for i in range(250):
            ok, message = client.track(f"user-{i % 17}", "Viewed", {"n": i}, anonymous_id=None)
            assert ok
            sent[message["messageId"]] = "track"
        client.shutdown()
    assert errors == []
    assert len(sent) == 256

    rows = workspace.lake.events().to_pyarrow().to_pylist()
    stored = {row["message_id"]: row for row in rows}
    assert {m: stored[m]["type"] for m in sent if m in stored} == sent
    assert len(stored) == 256
    order = next(r for r in rows if r["event"] == "Order Completed")
    assert order["user_id"] == "u1"
    assert order["source"] == "web"
    assert json.loads(order["properties"]) == {"total": 42.5, "items": 3}
    assert json.loads(order["context"])["library"]["name"] == "analytics-python"
    identify = next(r for r in rows if r["type"] == "identify")
    assert json.loads(identify["traits"]) == {"email": "ada@example.com", "plan": "gold"}


def test_sdk_sees_a_bad_key_as_an_error(served: tuple[Workspace, str, Server]) -> None:
    _, _, server = served
    with server:
        client = analytics.Client(write_key="twk_wrong", host=server.url, sync_mode=True)
        with pytest.raises(analytics.request.APIError) as failure:  # type: ignore[attr-defined]
            client.track("u1", "Clicked")
    assert failure.value.status == 401
    assert failure.value.code == "unauthorized"
    assert "write key is not valid" in failure.value.message


def test_bad_requests_leave_no_traceback_in_the_server_log(
    served: tuple[Workspace, str, Server],
) -> None:
    _, key, server = served
    with server:
        client = analytics.Client(write_key=key, host=server.url, sync_mode=True)
        with pytest.raises(analytics.request.APIError) as failure:  # type: ignore[attr-defined]
            client.track("u1", "Clicked", {"when": "x"}, timestamp=None, message_id="m1")
            client.alias("", "u1")  # no previousId
        assert failure.value.status == 400
        for raw in (b"", b"{", b"\xff" * 10, b'{"batch": 1}'):
            response = httpx.post(f"{server.url}/v1/batch", content=raw, auth=(key, ""))
            assert response.status_code == 400
    assert "Traceback" not in server.stderr()
    assert "Error" not in server.stderr()
