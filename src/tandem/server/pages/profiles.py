"""A customer's profile page: the same as `tandem profile show`, by the customers API's access
rule (personal data of every source in the profile; a profile the user may not see is not
found)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tandem.customers.profiles import (
    Ambiguous,
    list_profiles,
    profile_view,
    resolved,
)
from tandem.errors import NotFound
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render
from tandem.server.policy import readable_sources
from tandem.workspace import Workspace

router = APIRouter()

PREVIEW = 20
"""Profiles listed on the customers page."""


def profiles_section(ws: Workspace, user: Any) -> dict[str, Any]:
    """The customers page's profiles card: how many the user may see and the first few."""
    if not resolved(ws.lake):
        return {"resolved": False, "total": 0, "rows": []}
    total, rows = list_profiles(ws.lake, readable_sources=readable_sources(ws, user), limit=PREVIEW)
    return {"resolved": True, "total": total, "rows": rows}


@router.get("/customers/profile", response_class=HTMLResponse)
def profile_page(
    request: Request,
    user: PageUser,
    ws: WorkspaceDep,
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    if not q.strip():
        return RedirectResponse("/customers#profiles", status_code=303)
    context: dict[str, Any] = {"q": q, "view": None, "error": None, "choices": []}
    status = 200
    allowed = readable_sources(ws, user)
    try:
        context["view"] = profile_view(ws, q, readable_sources=allowed)
    except Ambiguous as exc:  # the customers this user may see, to choose from
        context["error"] = exc.message
        context["choices"] = list_profiles(
            ws.lake, readable_sources=allowed, customer_ids=exc.customer_ids, limit=PREVIEW
        )[1]
        status = 409
    except NotFound as exc:
        context["error"] = " ".join(exc.lines())
        status = 404
    return render(
        request,
        "profile.html",
        user=user,
        active="/customers",
        status_code=status,
        title="Customer profile",
        **context,
    )
