"""Errors a user can act on.

Every failure caused by input (a file, a command-line value, an HTTP request body) is raised as a
`TandemError` subclass. Its message names what is wrong and where; the CLI prints it and exits
non-zero, the HTTP API turns it into a 4xx JSON body `{"error", "detail", "field"}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: what, and where (file line and/or field path)."""

    message: str
    field: str | None = None
    line: int | None = None

    def describe(self, source: str | None = None) -> str:
        where = []
        if source:
            where.append(source if self.line is None else f"{source}, line {self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(self.field)
        return f"{': '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "line": self.line}


class TandemError(Exception):
    """Base class of every user-facing error.

    `message` is one sentence a user can act on; `detail` adds context; `field` names the input
    field concerned (a dotted path such as ``capabilities[3].owners.marketing``).
    """

    status_code = 400
    error = "invalid_input"

    def __init__(self, message: str, *, detail: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: `error` (a code), `detail` (the message), `field`, and `hint`
        when there is more to say."""
        data: dict[str, Any] = {"error": self.error, "detail": self.message, "field": self.field}
        if self.detail:
            data["hint"] = self.detail
        return data

    def lines(self) -> list[str]:
        """The message as lines for a terminal."""
        out = [self.message]
        if self.detail:
            out.append(f"  {self.detail}")
        return out


class InvalidInput(TandemError):
    """An input (file or request) has one or more problems; nothing was changed."""

    def __init__(self, message: str, problems: list[Problem], *, source: str | None = None):
        first = problems[0] if problems else None
        super().__init__(message, field=first.field if first else None)
        self.problems = problems
        self.source = source

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["problems"] = [p.to_dict() for p in self.problems]
        return data

    def lines(self) -> list[str]:
        return [self.message, *(f"  {p.describe(self.source)}" for p in self.problems)]


class NotFound(TandemError):
    """A named thing (function, capability, workspace, ...) does not exist."""

    status_code = 404
    error = "not_found"


class Conflict(TandemError):
    """The change conflicts with what exists (a duplicate key, a thing still in use)."""

    status_code = 409
    error = "conflict"


class NotAWorkspace(TandemError):
    """The folder is not a Tandem workspace."""

    error = "not_a_workspace"


class ConfigError(TandemError):
    """tandem.toml or a TANDEM_* variable is invalid, or the database it names cannot be used."""

    error = "invalid_config"


class InvalidConfig(InvalidInput):
    """tandem.toml or TANDEM_* variables hold values that are not valid settings."""

    error = "invalid_config"


class InvalidValue(InvalidInput):
    """One value (a command-line argument, a request field) is wrong; `detail` may say how to fix
    it."""

    def __init__(self, message: str, *, field: str | None = None, detail: str | None = None):
        super().__init__(message, [])
        self.field = field
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return TandemError.to_dict(self)

    def lines(self) -> list[str]:
        return TandemError.lines(self)


class DatabaseFailure(TandemError):
    """The metadata database failed (locked for too long, connection lost, disk full)."""

    status_code = 503
    error = "database_error"
