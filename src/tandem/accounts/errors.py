"""Errors of signing in and of access: 401, 403 and 429 in the HTTP API."""

from __future__ import annotations

from tandem.errors import TandemError


class NotAuthenticated(TandemError):
    """No valid session or token, or a wrong email or password."""

    status_code = 401
    error = "not_authenticated"


class Forbidden(TandemError):
    """Signed in, but the access policy does not allow this action on this resource."""

    status_code = 403
    error = "forbidden"


class TooManyAttempts(TandemError):
    """Too many failed sign-ins for this email from this client; try again later."""

    status_code = 429
    error = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, detail=f"try again in {retry_after} seconds")
        self.retry_after = retry_after
