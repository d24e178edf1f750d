from __future__ import annotations

import re
from typing import Any

from tandem import Workspace
from tests.server.pages.conftest import csrf_of

HR_ONLY = "digital-recruiting-employer-brand"  # HR holds RA; marketing is only informed


def _marketing_alone(ws: Workspace) -> tuple[str, ...]:
    found = [f for f in ws.ownership.findings() if f.rule == "marketing-alone-accountable"]
    assert found, "the demo company has capabilities marketing alone answers for"
    return found[0].capabilities


def _post(client: Any, capability: str, function: str, roles: str, token: str) -> Any:
    return client.post(
        f"/ownership/matrix/{capability}/{function}",
        data={"roles": roles},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )


def test_the_matrix_shows_every_capability_and_function_with_its_roles(
    login: Any, demo_ws: Workspace
) -> None:
    page = login("admin@harbour.example").get("/ownership")
    assert page.status_code == 200
    matrix = demo_ws.ownership.matrix()
    for row in matrix.rows:
        assert f'<th scope="row">{row["name"]}</th>'.replace("&", "&amp;") in page.text
    cells = re.findall(r'id="cell-([a-z0-9-]+)--([a-z0-9-]+)"', page.text)
    assert len(cells) == len(matrix.rows) * len(matrix.functions)
    assert f'id="cell-{HR_ONLY}--hr"' in page.text
    hr_cell = page.text.split(f'id="cell-{HR_ONLY}--hr"')[1].split("</td>")[0]
    assert 'value="RA"' in hr_cell
    assert "Marketing alone is accountable" in page.text
    assert 'id="benchmark-chart"' in page.text and "% of firms surveyed" in page.text


def test_an_edit_saves_the_roles_and_refreshes_the_findings(login: Any, demo_ws: Workspace) -> None:
    client = login("admin@harbour.example")
    token = csrf_of(client.get("/ownership").text)
    before = _marketing_alone(demo_ws)
    capability = before[0]
    response = _post(client, capability, "it", "a", token)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "findings-changed"
    assert 'value="A"' in response.text and "saved" in response.text
    assert (
        demo_ws.ownership.matrix().to_dict()["capabilities"][
            [r["key"] for r in demo_ws.ownership.matrix().rows].index(capability)
        ]["roles"]["it"]
        == "A"
    )
    findings = client.get("/ownership/findings").text
    if len(before) == 1:
        assert "Marketing alone is accountable" not in findings
    else:
        assert f"Marketing alone is accountable for {len(before) - 1} capabilit" in findings
    # Emptying the cell takes the roles away again, and the finding comes back.
    cleared = _post(client, capability, "it", "", token)
    assert cleared.status_code == 200 and 'value=""' in cleared.text
    assert _marketing_alone(demo_ws) == before


def test_an_edit_replaces_the_letters_exactly(login: Any, demo_ws: Workspace) -> None:
    client = login("admin@harbour.example")
    token = csrf_of(client.get("/ownership").text)
    assert _post(client, HR_ONLY, "hr", "R C", token).status_code == 200
    roles = {r["key"]: r["roles"] for r in demo_ws.ownership.matrix().rows}[HR_ONLY]
    assert roles["hr"] == "RC"
    unchanged = _post(client, HR_ONLY, "hr", "cr", token)
    assert unchanged.status_code == 200 and "HX-Trigger" not in unchanged.headers


def test_bad_letters_are_refused_in_the_cell_and_change_nothing(
    login: Any, demo_ws: Workspace
) -> None:
    client = login("admin@harbour.example")
    token = csrf_of(client.get("/ownership").text)
    before = demo_ws.ownership.matrix().to_dict()
    response = _post(client, HR_ONLY, "hr", "RX", token)
    assert response.status_code == 422
    assert "`X` is not a RACI role" in response.text
    assert 'value="RX"' in response.text  # what was typed stays, to be corrected
    assert demo_ws.ownership.matrix().to_dict() == before
    missing = _post(client, "no-such-capability", "hr", "R", token)
    assert missing.status_code == 404 and "no capability `no-such-capability`" in missing.text


def test_an_editor_edits_what_their_function_owns_and_nothing_else(
    login: Any, demo_ws: Workspace
) -> None:
    client = login("mia@harbour.example")
    page = client.get("/ownership").text
    token = csrf_of(page)
    owned = _marketing_alone(demo_ws)[0]
    assert f'hx-post="/ownership/matrix/{owned}/it"' in page
    assert f'hx-post="/ownership/matrix/{HR_ONLY}/hr"' not in page
    assert _post(client, owned, "it", "C", token).status_code == 200
    before = demo_ws.ownership.matrix().to_dict()
    refused = _post(client, HR_ONLY, "marketing", "RA", token)
    assert refused.status_code == 403
    assert "may not change this capability" in refused.text
    assert demo_ws.ownership.matrix().to_dict() == before


def test_a_viewer_sees_the_matrix_read_only(login: Any, demo_ws: Workspace) -> None:
    client = login("hal@harbour.example")
    page = client.get("/ownership").text
    assert "hx-post=" not in page
    assert "Read-only for your role" in page
    token = csrf_of(page)
    before = demo_ws.ownership.matrix().to_dict()
    assert _post(client, HR_ONLY, "hr", "I", token).status_code == 403
    assert demo_ws.ownership.matrix().to_dict() == before


def test_an_edit_without_the_csrf_token_is_refused(login: Any, demo_ws: Workspace) -> None:
    client = login("admin@harbour.example")
    before = demo_ws.ownership.matrix().to_dict()
    response = client.post(f"/ownership/matrix/{HR_ONLY}/hr", data={"roles": "I"})
    assert response.status_code == 403
    assert demo_ws.ownership.matrix().to_dict() == before
