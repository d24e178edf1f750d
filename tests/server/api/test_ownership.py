"""The ownership API: reads for everyone signed in, changes by the access policy."""

from __future__ import annotations

from tests.server.api.support import Api

ADMIN = "admin@example.com"
MARKETING = "marketing@example.com"
IT = "it@example.com"
HR = "hr@example.com"
DIGITAL = "digital@example.com"
VIEWER = "viewer@example.com"


def roles(api: Api, capability: str) -> dict[str, str]:
    answer = api.call(VIEWER, "GET", f"/api/capabilities/{capability}")
    assert answer.status_code == 200
    return dict(answer.json()["roles"])


def test_reads_are_open_to_every_signed_in_user(api: Api) -> None:
    matrix = api.call(VIEWER, "GET", "/api/ownership/matrix").json()
    assert [f["key"] for f in matrix["functions"]][:4] == [
        "executive",
        "marketing",
        "it",
        "digital",
    ]
    assert len(matrix["capabilities"]) == len(api.ws.ownership.model().capabilities)
    findings = api.call(VIEWER, "GET", "/api/ownership/findings").json()
    assert {f["rule"] for f in findings} == {f.rule for f in api.ws.ownership.findings()}
    bench = api.call(VIEWER, "GET", "/api/ownership/benchmark").json()
    assert bench == api.ws.ownership.benchmark().to_dict()
    exported = api.call(VIEWER, "GET", "/api/ownership/export")
    assert exported.headers["content-type"].startswith("application/yaml")
    assert exported.text == api.ws.ownership.export()


def test_a_responsibility_row_follows_the_matrix_rule(api: Api) -> None:
    url = "/api/capabilities/crm/responsibilities/{}"
    # the admin makes marketing accountable, IT responsible
    assert api.call(ADMIN, "PUT", url.format("marketing"), json={"roles": "A"}).json() == {
        "capability": "crm",
        "function": "marketing",
        "roles": "A",
    }
    assert api.call(ADMIN, "PUT", url.format("it"), json={"roles": "R"}).status_code == 200
    # HR holds neither R nor A: refused, with the reason
    refused = api.call(HR, "PUT", url.format("hr"), json={"roles": "C"})
    assert refused.status_code == 403
    assert (
        refused.json()["detail"] == "hr@example.com (editor of hr) may not change capability `crm`"
    )
    # R and A holders, and the digital team, may change the row
    assert api.call(IT, "PUT", url.format("hr"), json={"roles": "C"}).json()["roles"] == "C"
    assert api.call(MARKETING, "PUT", url.format("pr"), json={"roles": "I"}).status_code == 200
    assert api.call(DIGITAL, "DELETE", url.format("pr")).json()["roles"] == ""
    # a viewer of an owning function only reads
    assert api.call(VIEWER, "PUT", url.format("hr"), json={"roles": "I"}).status_code == 403
    # a grant lets HR in
    api.ws.accounts.grant(HR, "capability", "crm")
    assert api.call(HR, "PUT", url.format("hr"), json={"roles": "I"}).json()["roles"] == "CI"
    assert roles(api, "crm") == {"marketing": "A", "it": "R", "hr": "CI"}


def test_domain_errors_are_4xx_json_with_the_field(api: Api) -> None:
    url = "/api/capabilities/crm/responsibilities/marketing"
    bad = api.call(ADMIN, "PUT", url, json={"roles": "X"})
    assert bad.status_code == 400 and bad.json()["field"] == "role"
    missing = api.call(
        ADMIN, "PUT", "/api/capabilities/crm/responsibilities/nope", json={"roles": "A"}
    )
    assert missing.status_code == 404 and missing.json()["field"] == "function"
    unknown_field = api.call(ADMIN, "PUT", url, json={"roles": "A", "extra": 1})
    assert unknown_field.status_code == 422
    assert roles(api, "crm") == {}  # nothing was half-written


def test_the_models_structure_is_for_admins(api: Api) -> None:
    body = {"name": "Data office", "kind": "digital"}
    assert api.call(DIGITAL, "POST", "/api/functions", json=body).status_code == 403
    made = api.call(ADMIN, "POST", "/api/functions", json=body)
    assert made.status_code == 201 and made.json()["key"] == "data-office"
    assert api.call(ADMIN, "POST", "/api/functions", json=body).status_code == 409
    renamed = api.call(ADMIN, "PATCH", "/api/functions/data-office", json={"name": "Data"})
    assert renamed.json()["name"] == "Data"
    assert api.call(ADMIN, "DELETE", "/api/functions/data-office").status_code == 200
    assert api.call(ADMIN, "GET", "/api/functions/data-office").status_code == 404
    cap = api.call(ADMIN, "POST", "/api/capabilities", json={"name": "Chatbots"})
    assert cap.status_code == 201 and cap.json()["roles"] == {}
    body_ = {"name": "Steering", "kind": "steering_committee", "members": ["executive", "it"]}
    made_body = api.call(ADMIN, "POST", "/api/governance", json=body_)
    assert made_body.status_code == 201 and made_body.json()["members"] == ["executive", "it"]
    company = api.call(ADMIN, "PATCH", "/api/company", json={"employees": 1200})
    assert company.json()["employees"] == 1200
    assert api.call(MARKETING, "PATCH", "/api/company", json={"employees": 5}).status_code == 403


def test_editors_manage_the_people_of_their_own_function(api: Api) -> None:
    person = {"name": "Mia Chen", "title": "CMO", "head": True}
    added = api.call(MARKETING, "POST", "/api/functions/marketing/people", json=person)
    assert added.status_code == 201 and added.json()["head"] == "Mia Chen"
    assert api.call(MARKETING, "POST", "/api/functions/it/people", json=person).status_code == 403
    gone = api.call(MARKETING, "DELETE", "/api/functions/marketing/people/Mia Chen")
    assert gone.json()["people"] == []


def test_import_is_all_or_nothing_and_names_the_line(api: Api) -> None:
    headers = {"Content-Type": "application/yaml"}
    exported = api.call(ADMIN, "GET", "/api/ownership/export").text
    broken = exported.replace("kind: marketing", "kind: nonsense", 1)
    answer = api.call(ADMIN, "POST", "/api/ownership/import", content=broken, headers=headers)
    assert answer.status_code == 400
    problem = answer.json()["problems"][0]
    assert problem["line"] is not None and "kind" in (problem["field"] or "")
    merged = api.call(
        ADMIN,
        "POST",
        "/api/ownership/import?merge=true",
        content="capabilities:\n  - key: crm\n    owners: {marketing: A, it: R}\n",
        headers=headers,
    )
    assert merged.status_code == 200, merged.text
    assert roles(api, "crm") == {"marketing": "A", "it": "R"}
    refused = api.call(
        MARKETING, "POST", "/api/ownership/import", content=exported, headers=headers
    )
    assert refused.status_code == 403


def test_a_change_through_the_api_refreshes_the_dashboard(api: Api) -> None:
    from tandem.reporting import dashboard

    dashboard.collaboration_section(api.ws)
    key = str(api.ws.root)
    assert key in dashboard._COLLABORATION_CACHE
    api.call(VIEWER, "GET", "/api/ownership/matrix")
    assert key in dashboard._COLLABORATION_CACHE, "a read keeps the cache"
    answer = api.call(ADMIN, "POST", "/api/functions", json={"key": "legal", "name": "Legal"})
    assert answer.status_code == 201
    assert key not in dashboard._COLLABORATION_CACHE, "a change drops it"
