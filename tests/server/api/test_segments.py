"""The segments API: the same validation and numbers as the CLI, 4xx JSON for every bad input,
and the access policy (edit by owners; members are customer data; personal traits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.customers.test_segments import build_segment_lake
from tests.server.api.support import Api

pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:`partition_filters` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option:Warning"),
]

ADMIN = "admin@example.com"
MARKETING = "marketing@example.com"
IT = "it@example.com"
DIGITAL = "digital@example.com"
VIEWER = "viewer@example.com"
NOW = "2026-07-01T00:00:00Z"


@pytest.fixture
def built(api: Api, tmp_path: Path) -> Api:
    build_segment_lake(api.ws, tmp_path)
    return api


def buyers(name: str = "buyers", **where: Any) -> dict[str, Any]:
    return {
        "name": name,
        "owners": ["marketing"],
        "where": where or {"event": "Order Completed", "at_least": 2},
    }


def test_create_read_evaluate_members(built: Api) -> None:
    created = built.call(MARKETING, "POST", "/api/segments", json=buyers())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["size"], body["created_by"]) == ("buyers", 2, MARKETING)
    listed = built.call(VIEWER, "GET", "/api/segments").json()
    assert [(s["name"], s["size"]) for s in listed] == [("buyers", 2)]
    again = built.call(MARKETING, "POST", "/api/segments/buyers/evaluate", json={"as_of": NOW})
    assert again.status_code == 200, again.text
    assert (again.json()["evaluation"], again.json()["size"]) == (2, 2)
    shown = built.call(VIEWER, "GET", "/api/segments/buyers").json()
    assert [e["evaluation"] for e in shown["history"]] == [1, 2]
    page = built.call(MARKETING, "GET", "/api/segments/buyers/members", params={"limit": 1})
    assert page.status_code == 200, page.text
    assert page.json() == {
        "segment": "buyers",
        "evaluation": 2,
        "total": 2,
        "customer_ids": ["cus_a"],
    }
    rest = built.call(DIGITAL, "GET", "/api/segments/buyers/members?limit=5&offset=1&evaluation=1")
    assert rest.json()["customer_ids"] == ["cus_d"] and rest.json()["evaluation"] == 1
    preview = built.call(
        VIEWER,
        "POST",
        "/api/segments/preview",
        json={"definition": buyers(event="Email Opened"), "as_of": NOW},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json() == {"name": "buyers", "size": 2}
    gone = built.call(MARKETING, "DELETE", "/api/segments/buyers")
    assert gone.status_code == 200 and gone.json()["ok"] is True
    assert built.call(VIEWER, "GET", "/api/segments").json() == []


def test_bad_input_is_4xx_json(built: Api) -> None:
    typo = buyers(event="Order Complted")
    answer = built.call(MARKETING, "POST", "/api/segments", json=typo)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_input" and body["field"] == "where.event"
    assert "did you mean `Order Completed`?" in body["problems"][0]["message"]
    cases: list[tuple[str, str, Any, int, str | None]] = [
        ("POST", "/api/segments", buyers(trait="city", op="<", value=3), 400, "where.value"),
        ("POST", "/api/segments", buyers(name="Bad Name"), 400, None),
        ("POST", "/api/segments", {"name": "x", "owners": ["marketing"]}, 400, None),
        ("POST", "/api/segments", [1, 2], 422, "body"),
        ("POST", "/api/segments", {**buyers(), "owners": ["nobody"]}, 404, "owners"),
        ("POST", "/api/segments/preview", {"definition": buyers(), "as_of": "soon"}, 422,
         "body.as_of"),
        ("POST", "/api/segments/preview", {"definition": buyers(), "extra": 1}, 422,
         "body.extra"),
        ("GET", "/api/segments/nope", None, 404, "name"),
        ("GET", "/api/segments/Not%20A%20Slug", None, 422, "path.name"),
        ("POST", "/api/segments/nope/evaluate", None, 404, "name"),
        ("GET", "/api/segments/nope/members", None, 404, "name"),
    ]  # fmt: skip
    for method, url, payload, code, field in cases:
        got = built.call(ADMIN, method, url, json=payload)
        assert got.status_code == code, (url, payload, got.text)
        assert got.json()["field"] == field, (url, payload, got.json())
        assert "error" in got.json() and "detail" in got.json()
    built.call(MARKETING, "POST", "/api/segments", json=buyers())
    conflict = built.call(MARKETING, "POST", "/api/segments", json=buyers())
    assert conflict.status_code == 409 and conflict.json()["field"] == "name"
    deep = built.call(MARKETING, "GET", "/api/segments/buyers/members?evaluation=9")
    assert deep.status_code == 404 and deep.json()["field"] == "evaluation"
    big = built.call(MARKETING, "GET", "/api/segments/buyers/members?offset=99999999999")
    assert big.status_code == 422 and big.json()["field"] == "query.offset"


def test_access(built: Api) -> None:
    # a viewer, and an editor of a function that does not own it, may not create or change it
    for email in (VIEWER, IT):
        denied = built.call(email, "POST", "/api/segments", json=buyers())
        assert denied.status_code == 403, denied.text
    assert built.call(ADMIN, "GET", "/api/segments").json() == []  # nothing was saved
    assert built.call(MARKETING, "POST", "/api/segments", json=buyers()).status_code == 201
    assert built.call(IT, "POST", "/api/segments/buyers/evaluate").status_code == 403
    assert built.call(IT, "DELETE", "/api/segments/buyers").status_code == 403
    # members are customer data: owners and the digital team; sizes are for everyone
    assert built.call(IT, "GET", "/api/segments/buyers/members").status_code == 403
    assert built.call(VIEWER, "GET", "/api/segments/buyers/members").status_code == 200
    assert built.call(IT, "GET", "/api/segments/buyers").json()["size"] == 2
    # a condition on a personal trait needs read_personal (a count over an email tells whether
    # someone is a customer): marketing's viewer may not, its editor may
    personal = buyers(name="ann", trait="email", op="=", value="ann@x.example")
    probe = {"definition": personal}
    assert built.call(VIEWER, "POST", "/api/segments/preview", json=probe).status_code == 403
    assert built.call(IT, "POST", "/api/segments/preview", json=probe).status_code == 403
    allowed = built.call(MARKETING, "POST", "/api/segments/preview", json=probe)
    assert allowed.status_code == 200 and allowed.json()["size"] == 1
    not_personal = {"definition": buyers(trait="city", op="=", value="Leeds")}
    assert (
        built.call(VIEWER, "POST", "/api/segments/preview", json=not_personal).json()["size"] == 1
    )
    # a saved segment over a personal trait: its sizes go only to those who may read personal
    # data (the same question as the preview), in the list and in the segment itself
    assert built.call(MARKETING, "POST", "/api/segments", json=personal).status_code == 201
    for email in (VIEWER, IT):
        listed = {s["name"]: s for s in built.call(email, "GET", "/api/segments").json()}
        one = built.call(email, "GET", "/api/segments/ann").json()
        for shown in (listed["ann"], one):
            assert shown["size"] is None and shown["latest"] is None and shown["history"] == []
            assert "email" in shown["sizes_hidden"]
        assert listed["buyers"]["size"] == 2 and listed["buyers"]["sizes_hidden"] is None
    for email in (MARKETING, ADMIN):
        one = built.call(email, "GET", "/api/segments/ann").json()
        assert one["size"] == 1 and one["sizes_hidden"] is None and len(one["history"]) == 1


def test_assigning_a_campaign_re_evaluates_a_segment_only_for_its_editors(built: Api) -> None:
    """A campaign's owners (IT) may assign it, but a new evaluation of its target segment
    (owned by marketing) through `evaluate: true` is an edit of the segment."""
    assert built.call(MARKETING, "POST", "/api/segments", json=buyers()).status_code == 201
    campaign = {
        "name": "it-campaign",
        "channel": "email",
        "owners": ["it"],
        "segment": "buyers",
        "start": "2026-07-01T00:00:00Z",
        "end": "2026-08-01T00:00:00Z",
        "arms": [
            {"name": "control", "share": 0.5, "control": True},
            {"name": "offer", "share": 0.5},
        ],
        "metrics": [{"name": "bought", "kind": "conversion", "event": "Order Completed"}],
    }
    created = built.call(IT, "POST", "/api/campaigns", json=campaign)
    assert created.status_code == 201, created.text
    refused = built.call(IT, "POST", "/api/campaigns/it-campaign/assign", json={"evaluate": True})
    assert refused.status_code == 403, refused.text
    history = built.call(VIEWER, "GET", "/api/segments/buyers").json()["history"]
    assert [e["evaluation"] for e in history] == [1]  # no new evaluation
    assigned = built.call(IT, "POST", "/api/campaigns/it-campaign/assign")
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["total"] == 2
