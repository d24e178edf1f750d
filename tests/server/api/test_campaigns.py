"""The campaigns API: the same functions as the CLI, the access policy (edit needs an owning
function; results are aggregates anyone signed in reads; customer lists are customer data), and a
4xx JSON answer for every bad input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.campaigns import campaign_data as cd
from tests.server.api.support import Api

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]

ADMIN = "admin@example.com"
MARKETING = "marketing@example.com"
IT = "it@example.com"
HR = "hr@example.com"
DIGITAL = "digital@example.com"
VIEWER = "viewer@example.com"
ARMS_CSV = "customer_id,arm,assigned_at\n" + "".join(
    f"{c},{a},2026-03-01T00:00:00Z\n" for c, a in cd.ARMS.items()
)


@pytest.fixture
def built(api: Api, tmp_path: Path) -> Api:
    cd.build(api.ws, tmp_path)
    return api


def _create(api: Api, who: str = MARKETING, **changes: Any) -> Any:
    return api.call(who, "POST", "/api/campaigns", json=cd.definition(**changes))


def test_campaign_lifecycle_over_http(built: Api) -> None:
    created = _create(built)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "spring" and created.json()["customers"] == list(cd.ARMS)
    listed = built.call(HR, "GET", "/api/campaigns").json()
    assert [c["name"] for c in listed] == ["spring"] and listed[0]["customers"] == 6  # a count

    upload = built.call(
        MARKETING,
        "POST",
        "/api/campaigns/spring/assignments",
        files={"file": ("arms.csv", io.BytesIO(ARMS_CSV.encode()), "text/csv")},
    )
    assert upload.status_code == 200, upload.text
    assert (upload.json()["accepted"], upload.json()["rejected"]) == (6, 0)
    assigned = built.call(IT, "POST", "/api/campaigns/spring/assign", json={"evaluate": False})
    assert assigned.status_code == 200 and assigned.json()["added"] == 0
    exposures = built.call(MARKETING, "POST", "/api/campaigns/spring/exposures")
    assert exposures.json()["exposures"] == {"opened": 3}

    shown = built.call(HR, "GET", "/api/campaigns/spring").json()
    assert shown["assigned"] == {"control": 3, "offer": 3} and shown["customers"] == 6
    results = built.call(VIEWER, "GET", "/api/campaigns/spring/results")
    assert results.status_code == 200, results.text
    revenue = next(m for m in results.json()["metrics"] if m["metric"] == "revenue")
    assert revenue["comparisons"][0]["control_mean"] == 7.5
    nan = built.call(
        VIEWER, "GET", "/api/campaigns/spring/results", params={"by": "monetary", "edges": ["nan"]}
    )
    assert nan.status_code == 400 and nan.json()["field"] == "by", nan.text
    by = built.call(
        VIEWER, "GET", "/api/campaigns/spring/results", params={"by": "monetary", "edges": [20]}
    )
    assert by.status_code == 200, by.text
    assert [b["bucket"] for b in by.json()["buckets"]] == ["< 20", ">= 20"]
    sequential = built.call(
        VIEWER, "GET", "/api/campaigns/spring/results", params={"sequential": "true"}
    ).json()
    assert sequential["sequential"] is True
    assert sequential["metrics"][2]["comparisons"][0]["sequential_relative"] is not None

    page = built.call(DIGITAL, "GET", "/api/campaigns/spring/assignments", params={"arm": "offer"})
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 3
    assert [r["customer_id"] for r in page.json()["assignments"]] == ["cus_4", "cus_5", "cus_6"]


def test_import_json_rows_with_rejections(built: Api) -> None:
    assert _create(built).status_code == 201
    rows = [
        {"customer_id": "cus_1", "arm": "control", "assigned_at": "2026-03-01"},
        {"customer_id": "cus_9", "arm": "control"},
        {"email": "p2@x.example", "arm": "offer"},
        {"customer_id": "cus_3", "arm": "nope"},
        {"customer_id": "cus_4", "arm": "offer", "assigned_at": "yesterday"},
        {"customer_id": "cus_5", "arm": "offer", "assigned_at": "9999-01-01"},
    ]
    answer = built.call(MARKETING, "POST", "/api/campaigns/spring/assignments", json={"rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rows"], body["accepted"], body["rejected"]) == (6, 1, 5)
    reasons = {r["row"]: r["reason"] for r in body["rejections"]}
    assert "unknown customer" in reasons[2] and "unknown arm" in reasons[4]
    assert "not a date and time" in reasons[5]
    assert "not between 1970 and 2200" in reasons[6]
    # mixed id columns: customer_id wins, so the email-only row has no customer_id
    assert reasons[3] == "no customer_id"


def test_access_policy(built: Api) -> None:
    assert _create(built, HR).status_code == 403  # hr owns neither
    assert _create(built, VIEWER).status_code == 403
    assert _create(built).status_code == 201
    assert built.call(HR, "POST", "/api/campaigns/spring/assign").status_code == 403
    assert built.call(HR, "POST", "/api/campaigns/spring/exposures").status_code == 403
    assert built.call(VIEWER, "POST", "/api/campaigns/spring/assign").status_code == 403
    assert built.call(ADMIN, "POST", "/api/campaigns/spring/assign").status_code == 200
    assert built.call(HR, "GET", "/api/campaigns/spring/results").status_code == 200
    # per-customer lists: owners and the digital team, not hr
    assert built.call(HR, "GET", "/api/campaigns/spring/assignments").status_code == 403
    assert built.call(VIEWER, "GET", "/api/campaigns/spring/assignments").status_code == 200
    assert built.call(HR, "GET", "/api/campaigns/spring").json()["customers"] == 6
    assert built.call(IT, "GET", "/api/campaigns/spring").json()["customers"] == list(cd.ARMS)


BAD_INPUTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("POST", "/api/campaigns", {"json": {"name": "x"}}, 400),
    ("POST", "/api/campaigns", {"json": [1, 2]}, 422),
    (
        "POST",
        "/api/campaigns",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
    ),
    ("GET", "/api/campaigns/nope", {}, 404),
    ("GET", "/api/campaigns/Not%20A%20Slug", {}, 422),
    ("GET", "/api/campaigns/spring/results?by=it's", {}, 404),
    ("GET", "/api/campaigns/nope/results", {}, 404),
    ("GET", "/api/campaigns/spring/results", {}, 404),  # no assignments yet
    ("GET", "/api/campaigns/spring/results?by=height", {}, 404),
    ("GET", "/api/campaigns/spring/results?bins=1&by=monetary", {}, 422),
    ("POST", "/api/campaigns/spring/assignments", {"json": {"rows": []}}, 400),
    ("POST", "/api/campaigns/spring/assignments", {"json": {"rows": [{"who": "x"}]}}, 400),
    ("POST", "/api/campaigns/spring/assignments", {"json": {"rows": [{"arm": {"a": 1}}]}}, 400),
    (
        "POST",
        "/api/campaigns/spring/assignments",
        {"content": b"x", "headers": {"content-type": "text/csv"}},
        400,
    ),
    (
        "POST",
        "/api/campaigns/spring/assignments",
        {"files": {"file": ("a.xlsx", io.BytesIO(b"x"), "application/octet-stream")}},
        400,
    ),
    (
        "POST",
        "/api/campaigns/spring/assignments",
        {"files": {"file": ("a.parquet", io.BytesIO(b"not parquet"), "application/octet-stream")}},
        400,
    ),
    ("POST", "/api/campaigns/spring/assign", {"json": {"at": "soon"}}, 422),
    ("POST", "/api/campaigns/spring/assign", {"json": {"at": "9999-12-31T23:59:59Z"}}, 400),
    ("GET", "/api/campaigns/spring/assignments?limit=0", {}, 422),
]


def test_bad_input_is_a_4xx_json_error(built: Api) -> None:
    assert _create(built).status_code == 201
    for method, url, kwargs, status in BAD_INPUTS:
        answer = built.call(MARKETING, method, url, **kwargs)
        assert answer.status_code == status, (url, kwargs, answer.text)
        body = answer.json()
        assert body["error"] and body["detail"], body
