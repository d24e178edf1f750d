"""Log in and log out (sessions and the login rate limit are `server/auth.py`'s)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tandem.errors import TandemError
from tandem.server.auth import login_user, logout_user
from tandem.server.deps import CsrfChecked
from tandem.server.pages.common import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    notice = "You are logged out." if request.query_params.get("bye") else None
    return render(request, "login.html", next=safe_next(next), title="Log in", notice=notice)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        await login_user(request, email, password)
    except TandemError as exc:
        error = exc.message
        if exc.status_code == 429:
            error = f"Too many attempts: {exc.message}. Wait a little and try again."
        return render(
            request,
            "login.html",
            next=safe_next(next),
            email=email,
            error=error,
            title="Log in",
            status_code=exc.status_code,
        )
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, _csrf: CsrfChecked) -> RedirectResponse:
    logout_user(request)
    return RedirectResponse("/login?bye=1", status_code=303)
