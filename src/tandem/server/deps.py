"""FastAPI dependencies shared by the API routers and the pages (as `Annotated` types).

@router.get("/things")
def things(user: CurrentUser, ws: WorkspaceDep) -> list[ThingPublic]: ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from tandem.accounts import Forbidden, NotAuthenticated, User
from tandem.server.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    RedirectToLogin,
    csrf_valid,
    session_user,
    token_user,
)
from tandem.workspace import Workspace

# Declared so the OpenAPI document lists both ways to authenticate; the checks are below.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="token", description="A personal API token: tdm_..."
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The session cookie set by signing in (state-changing calls need X-CSRF-Token)",
)


def get_workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def current_user(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _session: Annotated[str | None, Depends(_cookie)],
) -> User:
    """The API caller: a bearer token, else the session cookie (plus CSRF on changes); 401."""
    if request.headers.get("authorization"):
        user = token_user(request)
        if user is None:
            raise NotAuthenticated("the API token is not valid (unknown, revoked or malformed)")
        return user
    user = session_user(request)
    if user is None:
        raise NotAuthenticated(
            "sign in first",
            detail="send `Authorization: Bearer tdm_...` (tandem users token create) "
            "or the session cookie",
        )
    if request.method not in SAFE_METHODS and not csrf_valid(
        request, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(
            "the CSRF token is missing or wrong",
            detail=f"send the session's token in the {CSRF_HEADER} header",
        )
    return user


def page_user(request: Request) -> User:
    """The signed-in user of a page; otherwise a redirect to /login?next=<this page>."""
    user = session_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise RedirectToLogin(target)
    return user


async def csrf_checked(request: Request) -> None:
    """Refuse (403) a state-changing form or HTMX post without the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_valid(request, sent):
        raise Forbidden(
            "the form has expired or did not come from this site (CSRF check failed)",
            detail="reload the page and try again",
        )


def require_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden(f"{user.email} is not an admin", detail="only admins manage users")
    return user


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
CurrentUser = Annotated[User, Depends(current_user)]
PageUser = Annotated[User, Depends(page_user)]
CsrfChecked = Annotated[None, Depends(csrf_checked)]
AdminUser = Annotated[User, Depends(require_admin)]

__all__ = [
    "AdminUser",
    "CsrfChecked",
    "CurrentUser",
    "PageUser",
    "WorkspaceDep",
    "csrf_checked",
    "current_user",
    "get_workspace",
    "page_user",
]
