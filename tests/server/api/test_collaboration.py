"""Surveys, the couples network and initiatives over the API, under the access policy."""

from __future__ import annotations

from tests.server.api.support import Api

ADMIN = "admin@example.com"
MARKETING = "marketing@example.com"
IT = "it@example.com"
HR = "hr@example.com"
VIEWER = "viewer@example.com"


def test_surveys_are_run_by_admins_and_grants(api: Api) -> None:
    body = {"name": "pulse", "min_group": 3}
    refused = api.call(MARKETING, "POST", "/api/surveys", json=body)
    assert refused.status_code == 403
    made = api.call(ADMIN, "POST", "/api/surveys", json=body)
    assert made.status_code == 201 and made.json()["status"] == "open"
    path = api.call(ADMIN, "POST", "/api/surveys", json={"name": "x", "template": "/etc/passwd"})
    assert path.status_code == 422  # only built-in templates: no file paths over HTTP

    api.ws.accounts.grant(MARKETING, "survey", "pulse")
    links = api.call(MARKETING, "POST", "/api/surveys/pulse/invitations", json={"count": 3})
    assert links.status_code == 201
    assert [link.startswith("http://tandem.test/s/") for link in links.json()["links"]] == [
        True
    ] * 3

    rows = "function,right-people\n" + "marketing,5\n" * 3 + "it,1\n" * 3 + "hr,4\n"
    headers = {"Content-Type": "text/csv"}
    imported = api.call(
        MARKETING, "POST", "/api/surveys/pulse/responses", content=rows, headers=headers
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["rows"], imported.json()["accepted"]) == (7, 7)
    bad = api.call(
        ADMIN,
        "POST",
        "/api/surveys/pulse/responses",
        content="function,nope\nit,1\n",
        headers=headers,
    )
    assert bad.status_code == 400 and bad.json()["problems"][0]["line"] == 1

    results = api.call(VIEWER, "GET", "/api/surveys/pulse/results?by=function").json()
    question = next(q for q in results["questions"] if q["key"] == "right-people")
    assert question["overall"]["n"] == 7
    groups = {g["group"]: g for g in question["groups"]}
    assert groups["hr"]["n"] is None and groups["hr"]["suppressed"]  # 1 < 3: hidden
    # and one more group, or HR's count would follow from the total (complementary suppression)
    shown = [g["n"] for g in groups.values() if g["n"] is not None]
    assert shown == [3]
    closed = api.call(ADMIN, "POST", "/api/surveys/pulse/close")
    assert closed.json()["status"] == "closed"
    assert api.call(ADMIN, "POST", "/api/surveys/pulse/close").status_code == 409


def test_the_network_is_read_by_everyone(api: Api) -> None:
    answer = api.call(VIEWER, "GET", "/api/network")
    assert answer.status_code == 200
    keys = [f["key"] for f in answer.json()["functions"]]
    assert keys == [f.key for f in api.ws.ownership.model().functions]
    assert api.call(VIEWER, "GET", "/api/network?evidence=nonsense").status_code == 400
    findings = api.call(VIEWER, "GET", "/api/network/findings").json()
    assert [f["rule"] for f in findings] == [f.rule for f in api.ws.network.findings()]


def test_initiatives_are_changed_by_their_owning_functions(api: Api) -> None:
    body = {"key": "app-relaunch", "owners": ["marketing", "it"], "title": "App relaunch"}
    assert api.call(HR, "POST", "/api/initiatives", json=body).status_code == 403
    made = api.call(MARKETING, "POST", "/api/initiatives", json=body)
    assert made.status_code == 201 and made.json()["owners"] == ["marketing", "it"]
    kpi = api.call(
        IT, "POST", "/api/initiatives/app-relaunch/kpis", json={"key": "nps", "target": 40}
    )
    assert kpi.status_code == 201, kpi.text
    reported = api.call(
        IT,
        "POST",
        "/api/initiatives/app-relaunch/kpis/nps/values",
        json={"value": 31, "on": "2026-11-01"},
    )
    assert reported.json()["history"] == [{"date": "2026-11-01", "value": 31.0, "note": ""}]
    assert (
        api.call(
            HR, "PATCH", "/api/initiatives/app-relaunch", json={"status": "active"}
        ).status_code
        == 403
    )
    assert (
        api.call(
            VIEWER, "PATCH", "/api/initiatives/app-relaunch", json={"status": "active"}
        ).status_code
        == 403
    )
    changed = api.call(IT, "PATCH", "/api/initiatives/app-relaunch", json={"status": "active"})
    assert changed.json()["status"] == "active"
    listed = api.call(VIEWER, "GET", "/api/initiatives?status=active").json()
    assert [i["key"] for i in listed] == ["app-relaunch"]
    bad_dates = api.call(
        IT,
        "PATCH",
        "/api/initiatives/app-relaunch",
        json={"start": "2026-12-01", "end": "2026-01-01"},
    )
    assert bad_dates.status_code == 400 and bad_dates.json()["field"] == "end"
    assert api.call(MARKETING, "DELETE", "/api/initiatives/app-relaunch").status_code == 200
    assert api.call(VIEWER, "GET", "/api/initiatives/app-relaunch").status_code == 404
