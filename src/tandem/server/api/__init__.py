"""The REST API under /api: one router module per domain, thin over the workspace's façades.

Every route here but `POST /api/session` (sign in) needs a session or a personal token
(`CurrentUser`); a test walks `app.routes` to hold that.
"""

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request

from tandem.reporting import dashboard
from tandem.server.api import (
    campaign_analysis,
    campaigns,
    customers,
    initiatives,
    network,
    ownership,
    segments,
    session,
    sources,
    surveys,
    users,
)
from tandem.server.api.schemas import ERROR_RESPONSES


def _fresh_dashboard_after_changes(request: Request) -> Iterator[None]:
    """After any change made through the API, the dashboard recomputes what it caches (the same
    as an edit made through the pages), instead of waiting for its time-to-live."""
    yield
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        dashboard.forget(request.app.state.workspace)


router = APIRouter(
    prefix="/api",
    responses=ERROR_RESPONSES,
    dependencies=[Depends(_fresh_dashboard_after_changes)],
)
router.include_router(session.router)
router.include_router(users.router)
router.include_router(ownership.router)
router.include_router(sources.router)
router.include_router(surveys.router)
router.include_router(network.router)
router.include_router(initiatives.router)
router.include_router(customers.router)
router.include_router(segments.router)
router.include_router(campaigns.router)
router.include_router(campaign_analysis.router)

__all__ = ["router"]
