"""Campaigns: every campaign with its owners, target, arms, status and results (lift per metric
with its interval, and a chart)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tandem.reporting import dashboard
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render

router = APIRouter()


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    section = dashboard.campaigns_section(ws)
    return render(
        request,
        "campaigns.html",
        user=user,
        active="/campaigns",
        section=section,
        charts=section.charts,  # loads plotly.js, which draws the lift charts
    )
