"""What every page shares: the Jinja2 environment, the layout's navigation, rendering helpers.

Pages are server-rendered Jinja2 templates (`server/templates/`) with HTMX for the parts that
change in place; the assets (`server/static/`, plotly.js from the installed plotly package) are
served by the app itself, so the dashboard works with no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tandem.accounts.service import User
from tandem.reporting import report
from tandem.server.auth import csrf_token

HERE: Final = Path(__file__).resolve().parent.parent
TEMPLATES_DIR: Final = HERE / "templates"
STATIC_DIR: Final = HERE / "static"
STATIC_URL: Final = "/static"
PLOTLY_URL: Final = "/static/vendor/plotly.min.js"
CSS_URL: Final = "/static/tandem.css"

NAV: Final = (
    ("/", "Overview"),
    ("/ownership", "Ownership"),
    ("/collaboration", "Collaboration"),
    ("/customers", "Customers"),
    ("/campaigns", "Campaigns"),
)


def _static(path: str) -> str:
    return f"{STATIC_URL}/{path}"


# Page templates first, then the sections and stylesheet the board report shares.
templates = Jinja2Templates(directory=[TEMPLATES_DIR, report.TEMPLATES_DIR])
templates.env.globals["static"] = _static
templates.env.globals["nav"] = NAV
templates.env.globals["plotly_url"] = PLOTLY_URL


def render(
    request: Request,
    template: str,
    *,
    user: User | None = None,
    active: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A full page (or a partial) rendered with the layout's context."""
    context.setdefault("title", dict(NAV).get(active, "Tandem"))
    context.setdefault("charts", False)
    ws = request.app.state.workspace
    context.setdefault("company", ws.settings.name)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {"user": user, "active": active, "csrf": csrf_token(request), **context},
        status_code=status_code,
        headers=headers,
    )
    return response
