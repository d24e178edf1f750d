"""Customers: sources with their owners and event volumes by channel, profiles, and segments
with their size over time, each by the access policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tandem.accounts.service import User
from tandem.reporting import dashboard
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render
from tandem.server.pages.profiles import profiles_section
from tandem.server.policy import can, source_resource

router = APIRouter()


def source_visibility(user: User) -> Callable[[Any], bool]:
    """Whether `user` may see a source's customer data (owners, the digital team, admins)."""

    def visible(info: Any) -> bool:
        return can(user, "read_data", source_resource(info.name, info.kind, info.owners))

    return visible


@router.get("/customers", response_class=HTMLResponse)
def customers(request: Request, user: PageUser, ws: WorkspaceDep) -> HTMLResponse:
    section = dashboard.customers_section(ws, visible=source_visibility(user))
    segments = dashboard.segments_section(ws, user=user)
    return render(
        request,
        "customers.html",
        user=user,
        active="/customers",
        section=section,
        profiles=profiles_section(ws, user),
        segments=segments,
        charts=section.channel_chart is not None or segments.charts,
    )
