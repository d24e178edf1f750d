"""Signing in: session cookies, CSRF tokens, personal API tokens, the sign-in rate limit.

- The session is a signed (itsdangerous), http-only, SameSite=Lax cookie, `Secure` when the
  request came over https. The signing secret is made once per workspace and kept in
  `<workspace>/.secrets/session.key` (mode 0600, ignored by git).
- Each session carries a CSRF token (`csrf_token(request)`); pages put it in forms as
  `csrf_token` or send it as the `X-CSRF-Token` header; state-changing requests authenticated by
  the cookie must carry it. Requests with `Authorization: Bearer tdm_...` need no CSRF token
  (a browser never adds that header by itself).
- Sign-in failures are limited per (email, client address): 5 in 5 minutes, in memory
  (per server process).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from itsdangerous import BadSignature, TimestampSigner
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.accounts import NotAuthenticated, TooManyAttempts, User
from tandem.accounts.ratelimit import LoginLimiter
from tandem.workspace import Workspace

SESSION_COOKIE: Final = "tandem_session"
SESSION_MAX_AGE: Final = 14 * 24 * 3600
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SECRET_FILE: Final = Path(".secrets") / "session.key"


# -- the signing secret ------------------------------------------------------------------------
def session_secret(workspace: Workspace) -> str:
    """The workspace's session-signing secret, created (0600) on first use."""
    path = workspace.root / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds no usable secret: delete it to make a new one")
    return secret


# -- the session middleware --------------------------------------------------------------------
class SessionMiddleware:
    """Starlette's SessionMiddleware, with `Secure` decided per request (https or not)."""

    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        *,
        cookie: str = SESSION_COOKIE,
        max_age: int = SESSION_MAX_AGE,
    ):
        self.app = app
        self.signer = TimestampSigner(secret, salt="tandem.session")
        self.cookie = cookie
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        scope["session"] = self._load(connection.cookies.get(self.cookie))
        had_session = bool(scope["session"])
        secure = scope.get("scheme") in ("https", "wss")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                if session:
                    payload = base64.b64encode(json.dumps(session).encode())
                    value = self.signer.sign(payload).decode()
                    self._set(message, value, self.max_age, secure)
                elif had_session:
                    self._set(message, "null", 0, secure)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, raw: str | None) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = json.loads(base64.b64decode(self.signer.unsign(raw, max_age=self.max_age)))
        except (BadSignature, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _set(self, message: Message, value: str, max_age: int, secure: bool) -> None:
        parts = [f"{self.cookie}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
        parts.append("SameSite=Lax")
        if secure:
            parts.append("Secure")
        MutableHeaders(scope=message).append("Set-Cookie", "; ".join(parts))


# -- signing in and out ------------------------------------------------------------------------
def _workspace(request: HTTPConnection) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def login_limiter(app: FastAPI) -> LoginLimiter:
    limiter: LoginLimiter = app.state.login_limiter
    return limiter


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


async def login_user(request: Request, email: str, password: str) -> User:
    """Check the password (argon2, off the event loop), apply the rate limit, start a session.

    Raises NotAuthenticated (401, "email or password is wrong") or TooManyAttempts (429).
    """
    limiter = login_limiter(request.app)
    client = client_address(request)
    limiter.check(email, client)
    try:
        user = await run_in_threadpool(_workspace(request).accounts.authenticate, email, password)
    except NotAuthenticated:
        limiter.failed(email, client)
        raise
    limiter.succeeded(email, client)
    request.session.clear()  # a new session on every sign-in: no fixation
    request.session["uid"] = user.id
    request.session["tag"] = user.credential_tag
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return user


def logout_user(request: Request) -> None:
    request.session.clear()


def csrf_token(request: HTTPConnection) -> str:
    """The session's CSRF token (made on first use): put it in forms and HTMX headers."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_valid(request: HTTPConnection, sent: str | None) -> bool:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def session_user(request: HTTPConnection) -> User | None:
    """The enabled user of the session cookie, or None (also when the password changed since
    the session began: a password change signs every other session out)."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    user = _workspace(request).accounts.by_id(uid)
    if user is None or user.disabled or request.session.get("tag") != user.credential_tag:
        request.session.clear()
        return None
    return user


def token_user(request: HTTPConnection) -> User | None:
    """The user of an `Authorization: Bearer tdm_...` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return _workspace(request).accounts.user_for_token(secret.strip())


# -- wiring ------------------------------------------------------------------------------------
class RedirectToLogin(Exception):
    """A page needs a signed-in user: the app answers 303 to /login?next=<where they were>."""

    def __init__(self, next_url: str = "/"):
        super().__init__(next_url)
        self.next_url = next_url


def install(app: FastAPI, workspace: Workspace, *, limiter: LoginLimiter | None = None) -> None:
    """Add sessions, the sign-in limiter and the auth error handlers to `app`."""
    from urllib.parse import quote

    app.state.login_limiter = limiter or LoginLimiter()
    app.add_middleware(SessionMiddleware, secret=session_secret(workspace))

    @app.exception_handler(RedirectToLogin)
    async def _to_login(_request: Request, exc: RedirectToLogin) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(_request: Request, exc: NotAuthenticated) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(TooManyAttempts)
    async def _too_many(_request: Request, exc: TooManyAttempts) -> JSONResponse:
        return JSONResponse(
            exc.to_dict(), status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "RedirectToLogin",
    "SessionMiddleware",
    "client_address",
    "csrf_token",
    "csrf_valid",
    "install",
    "login_user",
    "logout_user",
    "session_secret",
    "session_user",
    "token_user",
]
