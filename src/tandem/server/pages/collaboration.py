"""Collaboration: survey results with intervals, the couples network, initiatives."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tandem.reporting import dashboard
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render

router = APIRouter()


@router.get("/collaboration", response_class=HTMLResponse)
def collaboration(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    section = dashboard.collaboration_section(ws)
    has_charts = bool(section.survey_charts or section.network_chart or section.kpi_chart)
    return render(
        request,
        "collaboration.html",
        user=user,
        active="/collaboration",
        section=section,
        charts=has_charts,
    )
