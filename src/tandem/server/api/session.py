"""Signing in and out through the API, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from tandem.accounts import User
from tandem.server.api.schemas import Done, ErrorBody, Schema
from tandem.server.api.users import UserPublic, user_public
from tandem.server.auth import csrf_token, login_user, logout_user
from tandem.server.deps import CurrentUser

router = APIRouter(tags=["session"])


class LoginRequest(Schema):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1024)]


class SessionPublic(UserPublic):
    csrf_token: str
    """Send it as `X-CSRF-Token` with state-changing calls made with the session cookie."""


def _session_public(request: Request, user: User) -> SessionPublic:
    return SessionPublic(**user_public(user).model_dump(), csrf_token=csrf_token(request))


@router.post(
    "/session",
    summary="Sign in with email and password (sets the session cookie)",
    responses={
        429: {"model": ErrorBody, "description": "Too many failed sign-ins; see Retry-After"}
    },
)
async def sign_in(request: Request, body: LoginRequest) -> SessionPublic:
    user = await login_user(request, body.email, body.password)
    return _session_public(request, user)


@router.get("/session", summary="The signed-in user and the session's CSRF token")
def who_am_i(request: Request, user: CurrentUser) -> SessionPublic:
    return _session_public(request, user)


@router.delete("/session", summary="Sign out (clears the session cookie)")
def sign_out(request: Request, _user: CurrentUser) -> Done:
    logout_user(request)
    return Done(detail="signed out")
