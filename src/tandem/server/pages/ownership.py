"""Ownership: the capabilities x functions matrix (editable in place), findings, benchmark.

A cell is edited with an HTMX POST of its RACI letters; the response is the cell again, and an
`HX-Trigger: findings-changed` header makes the findings list fetch itself anew.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from tandem.accounts.service import User
from tandem.errors import TandemError
from tandem.ownership.catalogue import parse_roles
from tandem.reporting import dashboard
from tandem.server.deps import CsrfChecked, PageUser, WorkspaceDep
from tandem.server.pages.common import render
from tandem.server.policy import can, capability_resource
from tandem.workspace import Workspace

router = APIRouter()


@router.get("/ownership", response_class=HTMLResponse)
def ownership(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    section = dashboard.ownership_section(ws)
    roles_of = {row["key"]: row["roles"] for row in section.matrix.rows}

    def editable(capability: str) -> bool:
        return can(user, "edit", capability_resource(capability, roles_of.get(capability, {})))

    return render(
        request,
        "ownership.html",
        user=user,
        active="/ownership",
        section=section,
        editable=editable,
        can_edit_any=any(editable(key) for key in roles_of),
        charts=True,
    )


@router.get("/ownership/findings", response_class=HTMLResponse)
def findings(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    return render(
        request, "partials/findings.html", user=user, findings=dashboard.findings_only(ws)
    )


def _cell(
    request: Request,
    user: User,
    ws: Workspace,
    capability: str,
    function: str,
    *,
    letters: str | None = None,
    state: str = "",
    message: str = "",
    status_code: int = 200,
    changed: bool = False,
) -> HTMLResponse:
    model = ws.ownership.model()
    cap = model.capability(capability)
    fn = model.function(function)
    roles = dict(cap.owners) if cap else {}
    return render(
        request,
        "partials/matrix_cell.html",
        user=user,
        cap=capability,
        fn=function,
        cap_name=cap.name if cap else capability,
        fn_name=fn.name if fn else function,
        letters=roles.get(function, "") if letters is None else letters,
        editable=can(user, "edit", capability_resource(capability, roles)),
        state=state,
        message=message,
        status_code=status_code,
        headers={"HX-Trigger": "findings-changed"} if changed else None,
    )


@router.post("/ownership/matrix/{capability}/{function}", response_class=HTMLResponse)
def set_cell(
    request: Request,
    capability: str,
    function: str,
    user: PageUser,
    ws: WorkspaceDep,
    _csrf: CsrfChecked,
    roles: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Set exactly `roles` (RACI letters; empty clears) for `function` on `capability`."""
    model = ws.ownership.model()
    cap = model.capability(capability)
    if cap is None or model.function(function) is None:
        what = f"capability `{capability}`" if cap is None else f"function `{function}`"
        return _cell(
            request,
            user,
            ws,
            capability,
            function,
            letters=roles,
            state="error",
            message=f"no {what}",
            status_code=404,
        )
    if not can(user, "edit", capability_resource(capability, dict(cap.owners))):
        return _cell(
            request,
            user,
            ws,
            capability,
            function,
            state="error",
            status_code=403,
            message="your role and function may not change this capability",
        )
    try:
        wanted = parse_roles(roles) if roles.strip() else ""
    except ValueError as exc:
        return _cell(
            request,
            user,
            ws,
            capability,
            function,
            letters=roles,
            state="error",
            message=str(exc),
            status_code=422,
        )
    try:
        _now, changed = ws.ownership.set_roles(capability, function, wanted)
    except TandemError as exc:
        return _cell(
            request,
            user,
            ws,
            capability,
            function,
            letters=roles,
            state="error",
            message=exc.message,
            status_code=exc.status_code,
        )
    if changed:
        dashboard.forget(ws)  # the network's shared-responsibility evidence changed
    return _cell(request, user, ws, capability, function, state="saved", changed=changed)
