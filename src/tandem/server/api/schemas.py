"""Schemas shared by several routers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class Done(BaseModel):
    """The answer of a change that has nothing else to return."""

    ok: bool = True
    detail: str


class ErrorBody(BaseModel):
    """Every error: a code, what is wrong, the field concerned, and sometimes how to fix it."""

    error: str
    detail: str | None = None
    field: str | None = None
    hint: str | None = None
    problems: list[dict[str, Any]] | None = None


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The input is not valid (the body names the field)"),
    401: _error("No valid session or API token"),
    403: _error("The access policy does not allow it, or the CSRF token is missing"),
    404: _error("No such thing"),
    409: _error("It conflicts with what exists"),
    422: _error("The request does not match the schema"),
    503: _error("The metadata database failed"),
}
"""Documented on every /api operation, so clients (and schemathesis) know the error shape."""
