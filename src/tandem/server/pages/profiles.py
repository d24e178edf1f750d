"""A customer's profile page: the same as `tandem profile show`, by the customers API's access
rule (personal data of every source in the profile)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tandem.accounts import Forbidden
from tandem.customers.profiles import (
    Ambiguous,
    explanation,
    find_customers,
    list_profiles,
    profile_view,
    resolved,
)
from tandem.errors import NotFound
from tandem.server.api.customers import readable_sources, require_profile
from tandem.server.deps import PageUser, WorkspaceDep
from tandem.server.pages.common import render
from tandem.workspace import Workspace

router = APIRouter()

PREVIEW = 20
"""Profiles listed on the customers page."""


def profiles_section(ws: Workspace, user: Any) -> dict[str, Any]:
    """The customers page's profiles card: how many the user may see and the first few."""
    if not resolved(ws.lake):
        return {"resolved": False, "total": 0, "rows": []}
    allowed = None if user.is_admin else readable_sources(ws, user)
    total, rows = list_profiles(ws.lake, readable_sources=allowed, limit=PREVIEW)
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
    try:
        view = profile_view(ws, q, explain=False)
        require_profile(ws, user, view["profile"]["sources"] or [])
        view["explanation"] = explanation(ws.lake, view["customer_id"])
        context["view"] = view
    except Ambiguous as exc:
        context["error"] = exc.message
        region = ws.settings.identity.default_region
        allowed = None if user.is_admin else readable_sources(ws, user)
        ids = find_customers(ws.lake, q, region=region).customer_ids
        context["choices"] = list_profiles(
            ws.lake, readable_sources=allowed, customer_ids=ids, limit=PREVIEW
        )[1]
        status = 409
    except NotFound as exc:
        context["error"] = " ".join(exc.lines())
        status = 404
    except Forbidden as exc:
        context["error"] = exc.message
        status = 403
    return render(
        request,
        "profile.html",
        user=user,
        active="/customers",
        status_code=status,
        title="Customer profile",
        **context,
    )
