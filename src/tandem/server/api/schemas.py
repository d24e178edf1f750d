"""Schemas shared by several routers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class Done(BaseModel):
    """The answer of a change that has nothing else to return."""

    ok: bool = True
    detail: str
