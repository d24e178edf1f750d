"""The FastAPI application: one app per open workspace.

`create_app(workspace)` builds the app; `tandem serve` runs it with uvicorn. Routers plug in here:

- `/v1/...`   Segment-compatible ingest (write key as HTTP Basic user), see `server/ingest.py`
- `/api/...`  the REST API (session cookie or personal token), see `server/api/`
- `/...`      server-rendered pages, see `server/pages/`

Every error a user can cause is a 4xx JSON body `{"error", "detail", "field", ...}` built from the
domain's `TandemError`; a request that does not match the route's schema is a 400/422 in the same
shape. Nothing a client sends produces a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DatabaseError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tandem import __version__
from tandem.errors import DatabaseFailure, TandemError
from tandem.server import api, auth, ingest
from tandem.server.pages import install as install_pages
from tandem.workspace import Workspace


def error_body(
    error: str, *, detail: str | None = None, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The one JSON shape of every error the server returns."""
    return {"error": error, "detail": detail, "field": field, **extra}


def create_app(workspace: Workspace) -> FastAPI:
    """The Tandem app serving `workspace` (the caller keeps it open while the app runs)."""
    app = FastAPI(
        title="Tandem",
        version=__version__,
        description="Run digital as a shared business: ownership, collaboration, customer truth.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.workspace = workspace
    auth.install(app, workspace)
    app.include_router(api.router)
    app.include_router(ingest.router)
    install_pages(app)

    @app.exception_handler(TandemError)
    async def _tandem_error(_request: Request, exc: TandemError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.exception_handler(DatabaseError)
    async def _database_error(_request: Request, exc: DatabaseError) -> JSONResponse:
        failure = DatabaseFailure(f"the metadata database failed: {exc.orig}")
        return JSONResponse(failure.to_dict(), status_code=failure.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": str(error.get("msg", "invalid value")),
            }
            for error in exc.errors()
        ]
        first = problems[0] if problems else {"field": None, "message": "invalid request"}
        body = error_body(
            "the request is not valid",
            detail=first["message"],
            field=first["field"],
            problems=problems,
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(error_body(message), status_code=exc.status_code, headers=exc.headers)

    @app.get("/api/health", tags=["health"], summary="Liveness and the workspace served")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "workspace": workspace.settings.name}

    return app
