"""Server-rendered pages (Jinja2 + HTMX): one module per page group.

`install(app)` adds them to the app with the static assets; `create_app` calls it.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from tandem.reporting import charts
from tandem.reporting.report import CSS_FILE, plotly_js_path
from tandem.server.pages import (
    campaigns,
    collaboration,
    customers,
    login,
    overview,
    ownership,
    profiles,
    survey_form,
)
from tandem.server.pages.common import CSS_URL, PLOTLY_URL, STATIC_DIR, STATIC_URL

router = APIRouter(include_in_schema=False)
for _module in (
    overview,
    ownership,
    collaboration,
    profiles,  # /customers/profile before any /customers/... route
    customers,
    campaigns,
    login,
    survey_form,
):
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Add the pages, plotly.js and the static assets to `app`."""
    plotly_file = plotly_js_path()

    @app.get(PLOTLY_URL, include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_file,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get(CSS_URL, include_in_schema=False)
    def stylesheet() -> FileResponse:
        return FileResponse(CSS_FILE, media_type="text/css")

    app.include_router(router)
    # Load plotly's figure machinery in the background now rather than on the first page.
    threading.Thread(target=charts.warm_up, name="tandem-chart-warm-up", daemon=True).start()
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")


__all__ = ["install", "router"]
