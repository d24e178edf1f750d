"""The customers API: a profile with its explanation, lookups, the list, and the access policy
(a profile is personal data of every source in it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.customers.profiles import build_profiles
from tests.customers.profile_data import NOW, build_lake
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


@pytest.fixture
def built(api: Api, tmp_path: Path) -> Api:
    build_lake(api.ws, tmp_path)  # both sources owned by marketing
    build_profiles(api.ws, now=NOW, run=1)
    return api


def test_profile_with_explanation(built: Api) -> None:
    answer = built.call(MARKETING, "GET", "/api/customers/ann@x.example")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_id"] == "cus_a" and body["merged_from"] is None
    profile = body["profile"]
    assert profile["first_name"] == "Ann" and profile["trait_sources"]["firstName"] == "crm"
    assert profile["identifiers"]["user_id"] == ["crm:C1", "hv-1"]
    assert (profile["orders"], profile["revenue"], profile["rfm"]) == (2, 150.5, "533")
    assert profile["consent"]["marketingOptIn"]["given"] is False
    explained = body["explanation"]
    assert explained["merged_ids"] == ["cus_old"]
    assert ["crm", "C1"] in explained["records"]
    links = {(x["kind"], x["id_type"], x["id_value"], x["records"]) for x in explained["links"]}
    assert links == {
        ("identifier", "email", "ann@x.example", 2),
        ("identifier", "anonymous_id", "anon-1", 2),
    }
    assert all(x["id_value"] in x["why"] for x in explained["links"])
    short = built.call(DIGITAL, "GET", "/api/customers/cus_a", params={"explain": "false"})
    assert short.status_code == 200 and short.json()["explanation"] is None


def test_merged_unknown_and_ambiguous(built: Api) -> None:
    merged = built.call(ADMIN, "GET", "/api/customers/cus_old").json()
    assert (merged["customer_id"], merged["merged_from"]) == ("cus_a", "cus_old")
    unknown = built.call(ADMIN, "GET", "/api/customers/zed@x.example")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


def test_policy(built: Api) -> None:
    # IT owns neither source; a viewer may never see personal data. A profile they may not see
    # is not found, with the same answer as a customer that does not exist (no 403 telling them
    # that ann@x.example is a customer).
    missing = built.call(ADMIN, "GET", "/api/customers/zed@x.example").json()
    for email in (IT, VIEWER):
        for ref in ("cus_a", "ann@x.example"):
            answer = built.call(email, "GET", f"/api/customers/{ref}")
            assert answer.status_code == 404, (email, ref, answer.text)
            kind = "customer id" if ref.startswith("cus_") else "email"
            assert answer.json()["error"] == missing["error"]
            assert answer.json()["detail"] == f"no customer has that {kind}"
        assert built.call(email, "GET", "/api/customers").json() == {"total": 0, "customers": []}
    assert built.call(ADMIN, "GET", "/api/customers").json()["total"] == 4
    assert built.call(DIGITAL, "GET", "/api/customers").json()["total"] == 4


def test_list_and_lookup(built: Api) -> None:
    page = built.call(MARKETING, "GET", "/api/customers", params={"limit": 2, "offset": 1})
    body = page.json()
    assert body["total"] == 4
    assert [c["customer_id"] for c in body["customers"]] == ["cus_b", "cus_c"]
    assert body["customers"][0]["first_name"] == "Bob"
    found = built.call(
        MARKETING, "GET", "/api/customers", params={"identifier": "+44 7826 298616"}
    ).json()
    assert found["total"] == 1 and found["customers"][0]["customer_id"] == "cus_b"
    none = built.call(MARKETING, "GET", "/api/customers", params={"identifier": "x@y.z"})
    assert none.json() == {"total": 0, "customers": []}
    bad = built.call(MARKETING, "GET", "/api/customers", params={"limit": 0})
    assert bad.status_code == 422
    huge = built.call(MARKETING, "GET", "/api/customers", params={"offset": 10**20})
    assert huge.status_code == 422 and huge.json()["field"] == "query.offset"
    far = built.call(MARKETING, "GET", "/api/customers", params={"offset": 2**31 - 1})
    assert far.status_code == 200 and far.json()["customers"] == []


def test_before_resolution(api: Api) -> None:
    assert api.call(ADMIN, "GET", "/api/customers").json() == {"total": 0, "customers": []}
    answer = api.call(ADMIN, "GET", "/api/customers/cus_a")
    assert answer.status_code == 404 and "tandem resolve" in answer.json()["hint"]


def test_resolve_over_http_is_for_admins(built: Api) -> None:
    refused = built.call(MARKETING, "POST", "/api/resolve")
    assert refused.status_code == 403 and "only admins" in refused.json()["hint"]
    answer = built.call(ADMIN, "POST", "/api/resolve")
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["records"] == 12 and counts["profiles"] == counts["customers"] > 0


def test_identities_export_over_http_keeps_to_the_sources_you_may_see(built: Api) -> None:
    assert built.call(ADMIN, "POST", "/api/resolve").status_code == 200
    everything = built.call(ADMIN, "GET", "/api/identities/export")
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/csv")
    lines = everything.text.strip().splitlines()
    assert lines[0] == '"source","record_id","customer_id"'
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 12 and {r[0] for r in rows} == {'"crm"', '"web"'}
    # marketing owns both sources; IT owns neither (and is not the digital team)
    assert built.call(MARKETING, "GET", "/api/identities/export").text == everything.text
    assert built.call(IT, "GET", "/api/identities/export").text.strip() == lines[0]
    parquet = built.call(ADMIN, "GET", "/api/identities/export", params={"format": "parquet"})
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
    bad = built.call(ADMIN, "GET", "/api/identities/export", params={"format": "xlsx"})
    assert bad.status_code == 422 and bad.json()["field"] == "query.format"


def test_forget_over_http_plans_then_erases(built: Api) -> None:
    refused = built.call(MARKETING, "POST", "/api/forget", json={"identifier": "ann@x.example"})
    assert refused.status_code == 403
    plan = built.call(ADMIN, "POST", "/api/forget", json={"identifier": "ann@x.example"})
    assert plan.status_code == 200, plan.text
    assert plan.json() == {
        "erased": False,
        "plan": {
            "identifier_type": "email",
            "resolved": True,
            "customers": 1,
            "events": 6,
            "quarantine": 1,
        },
    }
    assert built.ws.lake.events().count().to_pyarrow().as_py() == 12  # a plan erases nothing
    done = built.call(
        ADMIN, "POST", "/api/forget", json={"identifier": "ann@x.example", "confirm": True}
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["erased"] is True and body["rows"]["events"] == 6 and body["erasure_id"] >= 1
    assert "ann" not in done.text.lower()  # the answer holds no personal data
    assert built.ws.lake.events().count().to_pyarrow().as_py() == 6
    again = built.call(ADMIN, "POST", "/api/forget", json={"identifier": "ann@x.example"})
    assert again.status_code == 404
    empty = built.call(ADMIN, "POST", "/api/forget", json={"identifier": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "body.identifier"
