"""POST /v1/{identify,track,page,screen,group,alias,batch}: auth, bodies, answers, the corpus."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml

from tandem import Workspace
from tandem.server import create_app
from tandem.server.ingest import gunzip, write_key_from_body, write_key_from_header
from tests.server.ingest_support import AppClient

CORPUS = Path(__file__).parent / "bad_inputs"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def basic(key: str, password: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{key}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Ingest:
    """A workspace with one source, its app running (lifespan included) and a client."""

    def __init__(self, workspace: Workspace, client: AppClient, key: str):
        self.ws = workspace
        self.client = client
        self.key = key

    def post(
        self,
        endpoint: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        key: str | None = "",
    ) -> Any:
        content = raw if raw is not None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent.update(basic(key or self.key))
        sent.update(headers or {})
        return self.client.post(f"/v1/{endpoint}", content=content, headers=sent)

    def stored(self) -> dict[str, dict[str, Any]]:
        rows = self.ws.lake.events().to_pyarrow().to_pylist()
        return {row["message_id"]: row for row in rows}

    def quarantined(self) -> list[dict[str, Any]]:
        return list(self.ws.lake.quarantine().to_pyarrow().to_pylist())


@pytest.fixture
def ingest(workspace: Workspace) -> Iterator[Ingest]:
    _, key = workspace.sources.add("web", kind="web", owners=["marketing", "it"])
    with AppClient(create_app(workspace)) as client:
        yield Ingest(workspace, client, key)


def track(message_id: str, user: str = "u1", **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": "Clicked", "messageId": message_id, **extra}


# -- happy paths ----------------------------------------------------------------------------------
def test_track_is_stored_before_the_answer(ingest: Ingest) -> None:
    response = ingest.post(
        "track",
        {
            "userId": "u1",
            "event": "Order Completed",
            "messageId": "m-1",
            "properties": {"total": 42.5},
            "timestamp": "2026-11-20T10:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0}
    timing = dict(part.split(";dur=") for part in response.headers["Server-Timing"].split(", "))
    assert set(timing) == {"parse", "commit", "total"}
    assert float(timing["total"]) >= float(timing["commit"]) >= 0
    row = ingest.stored()["m-1"]
    assert row["source"] == "web"
    assert row["type"] == "track"
    assert row["event"] == "Order Completed"
    assert json.loads(row["properties"]) == {"total": 42.5}


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("identify", {"userId": "u1", "traits": {"email": "a@example.com"}}),
        ("page", {"anonymousId": "a1", "name": "Home"}),
        ("screen", {"userId": "u1", "name": "Basket"}),
        ("group", {"userId": "u1", "groupId": "g1"}),
        ("alias", {"userId": "u1", "previousId": "a1"}),
    ],
)
def test_each_message_endpoint_sets_the_type(
    ingest: Ingest, endpoint: str, message: dict[str, Any]
) -> None:
    response = ingest.post(endpoint, {**message, "type": "track", "messageId": "x"})
    assert response.status_code == 200, response.text
    assert ingest.stored()["x"]["type"] == endpoint  # the URL wins over the body's type


def test_batch_mixed_types(ingest: Ingest) -> None:
    batch = [
        track("b-1"),
        {"type": "identify", "userId": "u1", "traits": {"plan": "gold"}, "messageId": "b-2"},
        {"type": "page", "anonymousId": "a9", "name": "Home", "messageId": "b-3"},
    ]
    response = ingest.post("batch", {"batch": batch, "sentAt": "2026-11-20T10:00:00Z"})
    assert response.json() == {"success": True, "accepted": 3, "duplicates": 0}
    stored = ingest.stored()
    assert {m: stored[m]["type"] for m in ("b-1", "b-2", "b-3")} == {
        "b-1": "track",
        "b-2": "identify",
        "b-3": "page",
    }


def test_a_message_sent_twice_is_stored_once(ingest: Ingest) -> None:
    assert ingest.post("batch", {"batch": [track("d-1"), track("d-2")]}).json()["accepted"] == 2
    again = ingest.post("batch", {"batch": [track("d-2"), track("d-3")]}).json()
    assert again == {"success": True, "accepted": 1, "duplicates": 1}
    assert sorted(ingest.stored()) == ["d-1", "d-2", "d-3"]


def test_gzip_body(ingest: Ingest) -> None:
    body = gzip.compress(json.dumps({"batch": [track(f"g-{i}") for i in range(50)]}).encode())
    response = ingest.post("batch", raw=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 50
    assert len(ingest.stored()) == 50


def test_text_plain_and_no_content_type_are_json(ingest: Ingest) -> None:
    plain = ingest.post("track", track("t-1"), headers={"Content-Type": "text/plain"})
    assert plain.status_code == 200, plain.text
    response = ingest.client.post(
        "/v1/track", content=json.dumps(track("t-2")).encode(), headers=basic(ingest.key)
    )
    assert response.status_code == 200, response.text
    assert {"t-1", "t-2"} <= set(ingest.stored())


def test_an_empty_batch_is_fine_and_writes_nothing(ingest: Ingest) -> None:
    response = ingest.post("batch", {"batch": []})
    assert response.json() == {"success": True, "accepted": 0, "duplicates": 0}


# -- authentication -------------------------------------------------------------------------------
def test_write_key_in_the_body(ingest: Ingest) -> None:
    response = ingest.post("track", {**track("k-1"), "writeKey": ingest.key}, key=None)
    assert response.status_code == 200, response.text
    assert "k-1" in ingest.stored()


def test_password_is_ignored(ingest: Ingest) -> None:
    response = ingest.client.post(
        "/v1/track", json=track("k-2"), headers=basic(ingest.key, "anything")
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("headers", "body_key", "reason"),
    [
        ({}, None, "a write key is required"),
        (basic("twk_not-a-key"), None, "the write key is not valid"),
        (basic(""), None, "a write key is required"),
        ({"Authorization": "Bearer abc"}, None, "scheme `Bearer` is not supported"),
        ({"Authorization": "Basic %%%"}, None, "not valid HTTP Basic"),
        ({"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:").decode()}, None, "Basic"),
        ({}, "twk_wrong", "the write key is not valid"),
        ({}, 12345, "a write key is required"),
    ],
)
def test_bad_keys_get_401(
    ingest: Ingest, headers: dict[str, str], body_key: Any, reason: str
) -> None:
    body = track("never")
    if body_key is not None:
        body["writeKey"] = body_key
    response = ingest.post("track", body, key=None, headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "never" not in ingest.stored()


def test_a_rotated_key_stops_at_once(ingest: Ingest) -> None:
    assert ingest.post("track", track("r-1")).status_code == 200
    new_key = ingest.ws.sources.rotate_key("web")
    assert ingest.post("track", track("r-2")).status_code == 401
    assert ingest.post("track", track("r-3"), key=new_key).status_code == 200
    assert set(ingest.stored()) == {"r-1", "r-3"}


def test_header_parsing() -> None:
    assert write_key_from_header(basic("twk_x")["Authorization"]) == "twk_x"
    assert write_key_from_header(basic("twk_x", "p:q")["Authorization"]) == "twk_x"
    assert write_key_from_header(None) is None
    assert write_key_from_body(b'{"writeKey": "twk_y", "batch": []}') == "twk_y"
    assert write_key_from_body(b"[1]") is None
    assert write_key_from_body(b"not json") is None


# -- invalid messages: the valid ones are stored, the others quarantined --------------------------
def test_partly_invalid_batch(ingest: Ingest) -> None:
    batch = [
        track("p-0"),
        {"type": "track", "event": "x", "messageId": "p-1"},
        track("p-2"),
        {"type": "group", "userId": "u1", "messageId": "p-3"},
    ]
    response = ingest.post("batch", {"batch": batch})
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 2
    assert body["rejected_count"] == 2
    assert body["field"] == "batch[1].userId"
    assert body["rejected"] == [
        {"index": 1, "field": "batch[1].userId", "reason": "userId or anonymousId is required"},
        {"index": 3, "field": "batch[3].groupId", "reason": "groupId is required for a group call"},
    ]
    assert "2 of 4 messages are invalid and quarantined" in body["detail"]
    assert body["detail"].endswith("the 2 valid ones were stored")
    assert body["message"] == body["detail"]  # Segment's SDKs log `message`
    assert set(ingest.stored()) == {"p-0", "p-2"}
    quarantined = ingest.quarantined()
    assert sorted(q["index"] for q in quarantined) == [1, 3]
    assert {q["source"] for q in quarantined} == {"web"}
    assert any('"p-3"' in q["raw"] for q in quarantined)


def test_the_answer_lists_at_most_100_rejections(ingest: Ingest) -> None:
    batch = [{"type": "track", "messageId": f"n-{i}"} for i in range(150)]
    body = ingest.post("batch", {"batch": batch}).json()
    assert body["rejected_count"] == 150
    assert len(body["rejected"]) == 100
    assert len(ingest.quarantined()) == 150


# -- size limits ----------------------------------------------------------------------------------
def test_oversized_body_is_413(ingest: Ingest) -> None:
    big = {"batch": [track(f"o-{i}", properties={"pad": "x" * 20_000}) for i in range(30)]}
    response = ingest.post("batch", big)
    assert response.status_code == 413
    assert "larger than 500 KB" in response.json()["detail"]
    assert ingest.stored() == {}


def test_gzip_bomb_is_413_without_inflating_it(ingest: Ingest) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}", compresslevel=9)
    assert len(bomb) < 100_000
    response = ingest.post("batch", raw=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "decompressed request body is larger than 500 KB" in response.json()["detail"]


def test_concatenated_gzip_members_are_one_body() -> None:
    data = gzip.compress(b'{"batch": ') + gzip.compress(b"[]}")
    assert gunzip(data) == b'{"batch": []}'
    with pytest.raises(Exception, match="larger than"):
        gunzip(gzip.compress(b"x" * 100) * 3, limit=250)


def test_declared_length_over_the_limit_is_refused_before_reading(ingest: Ingest) -> None:
    response = ingest.post("batch", raw=b"{}", headers={"Content-Length": "900000"})
    assert response.status_code == 413


# -- the corpus: 4xx and a clear reason every time ------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_input_corpus(ingest: Ingest, case: dict[str, Any]) -> None:
    raw = (CORPUS / case["file"]).read_bytes()
    response = ingest.post(case["endpoint"], raw=raw, headers=case.get("headers"))
    assert response.status_code == case["status"], response.text
    body = response.json()
    assert body["detail"]
    reasons = [body["detail"], *(r["reason"] for r in body.get("rejected", []))]
    assert any(case["contains"] in reason for reason in reasons), reasons
    if "rejected" in body:  # message-level problems: the valid message of the batch is stored
        stored = ingest.stored()
        assert body["accepted"] == len(stored)
        assert body["rejected_count"] == len(ingest.quarantined())
        if '"ok-1"' in raw.decode("utf-8", "replace"):
            assert "ok-1" in stored


# -- failures of the lake are 503, never a 200 ----------------------------------------------------
class FailingWriter:
    """Stands in for the group-commit writer when its commit fails (disk full, ...)."""

    def submit(self, parsed: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(OSError(28, "No space left on device"))
        return future

    def close(self) -> None:
        pass


def test_a_failed_commit_is_503(ingest: Ingest) -> None:
    real = ingest.client.app.state.ingest_writer  # type: ignore[attr-defined]
    ingest.client.app.state.ingest_writer = FailingWriter()  # type: ignore[attr-defined]
    try:
        response = ingest.post("track", track("f-1"))
    finally:
        ingest.client.app.state.ingest_writer = real  # type: ignore[attr-defined]
    assert response.status_code == 503
    assert "No space left on device" in response.json()["detail"]
    assert response.json()["code"] == "commit_failed"


def test_shutdown_flushes_and_later_requests_are_refused(workspace: Workspace) -> None:
    _, key = workspace.sources.add("app", kind="app", owners=["it"])
    app = create_app(workspace)
    with AppClient(app) as client:
        writer = app.state.ingest_writer
        response = client.post("/v1/track", json=track("s-1"), headers=basic(key))
        assert response.status_code == 200
    assert app.state.ingest_writer is None
    with pytest.raises(Exception, match="closed"):
        writer.submit(None)
    assert "s-1" in {r["message_id"] for r in workspace.lake.events().to_pyarrow().to_pylist()}


# -- OpenAPI --------------------------------------------------------------------------------------
def test_openapi_describes_the_endpoints(ingest: Ingest) -> None:
    doc = ingest.client.get("/api/openapi.json").json()
    batch = doc["paths"]["/v1/batch"]["post"]
    schema = batch["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["batch"]
    assert "userId" in schema["properties"]["batch"]["items"]["properties"]
    assert set(batch["responses"]) >= {"200", "400", "401", "413", "415", "503"}
    assert batch["security"] == [{"writeKey": []}]
    assert doc["components"]["securitySchemes"]["writeKey"]["scheme"] == "basic"
    for endpoint in ("identify", "track", "page", "screen", "group", "alias"):
        assert f"/v1/{endpoint}" in doc["paths"]


def test_a_huge_integer_id_keeps_every_digit(ingest: Ingest) -> None:
    body = b'{"batch": [{"type": "identify", "messageId": "h-1", "userId": %s}]}' % (b"9" * 400)
    assert ingest.post("batch", raw=body).status_code == 200
    assert ingest.stored()["h-1"]["user_id"] == "9" * 400


def test_concurrent_cache_misses_share_one_database_lookup(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import time

    from tandem.server.ingest import _authenticate

    info, key = workspace.sources.add("web", kind="web", owners=["it"])
    calls: list[str] = []
    original = workspace.sources.authenticate_uncached

    def counted(write_key: str) -> Any:
        calls.append(write_key)
        time.sleep(0.05)  # a slow database: the other requests arrive meanwhile
        return original(write_key)

    monkeypatch.setattr(workspace.sources, "authenticate_uncached", counted)

    async def twenty() -> list[Any]:
        return await asyncio.gather(*(_authenticate(workspace.sources, key) for _ in range(20)))

    assert asyncio.run(twenty()) == [info] * 20
    assert calls == [key]


def test_browsers_may_post_from_any_origin(ingest: Ingest) -> None:
    preflight = ingest.client.request(
        "OPTIONS",
        "/v1/batch",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = ingest.post("track", track("cors-1"), headers={"Origin": "https://x.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    refused = ingest.post("track", track("cors-2"), key="twk_bad")
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
