"""The overview: the steering committee's one page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tandem.reporting import dashboard
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render
from tandem.server.pages.customers import source_visibility

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    data = dashboard.overview(ws, visible_source=source_visibility(user))
    return render(request, "overview.html", user=user, active="/", ov=data, title="Overview")
