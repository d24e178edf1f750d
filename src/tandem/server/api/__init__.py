"""The REST API under /api: one router module per domain, thin over the workspace's façades.

Every route here but `POST /api/session` (sign in) needs a session or a personal token
(`CurrentUser`); a test walks `app.routes` to hold that.
"""

from fastapi import APIRouter

from tandem.server.api import initiatives, network, ownership, session, sources, surveys, users
from tandem.server.api.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
router.include_router(session.router)
router.include_router(users.router)
router.include_router(ownership.router)
router.include_router(sources.router)
router.include_router(surveys.router)
router.include_router(network.router)
router.include_router(initiatives.router)

__all__ = ["router"]
