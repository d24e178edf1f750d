"""The standalone board report: one HTML file, plotly.js and the stylesheet inlined, no network.

It shows what the overview page shows, then the detail pages' charts (benchmark, vision, surveys,
network, KPIs, channels). `tandem report --out FILE.html` writes it.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tandem import __version__
from tandem.errors import InvalidValue
from tandem.reporting import dashboard

if TYPE_CHECKING:
    from tandem.workspace import Workspace

TEMPLATES_DIR: Final = Path(__file__).resolve().parent / "templates"
CSS_FILE: Final = TEMPLATES_DIR / "tandem.css"


def plotly_js_path() -> Path:
    """plotly.min.js as the installed plotly package ships it (MIT licence)."""
    import plotly  # type: ignore[import-untyped,unused-ignore]

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _inline_script(text: str) -> str:
    # A literal "</script" inside the bundle would end the inline <script> element early.
    return text.replace("</script", "<\\/script")


def render_report(ws: Workspace, *, now: datetime | None = None) -> str:
    """The report's HTML for `ws` (everything inlined)."""
    from markupsafe import Markup

    overview = dashboard.overview(ws)
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        _environment()
        .get_template("report.html")
        .render(
            ov=overview,
            generated=moment,
            version=__version__,
            css=Markup(CSS_FILE.read_text("utf-8")),
            plotly_js=Markup(_inline_script(plotly_js_path().read_text("utf-8"))),
        )
    )


def write_report(ws: Workspace, out: str | os.PathLike[str]) -> Path:
    """Write the report to `out` atomically (a temporary file renamed into place)."""
    target = Path(out).expanduser()
    if target.is_dir():
        raise InvalidValue(
            f"{target} is a folder: give a file name such as report.html", field="out"
        )
    if not target.parent.is_dir():
        raise InvalidValue(f"the folder {target.parent} does not exist", field="out")
    html = render_report(ws)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tandem-report-", suffix=".html", dir=target.parent)
    except OSError as exc:
        raise InvalidValue(f"cannot write {target}: {exc.strerror}", field="out") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file, not mkstemp's private 0600
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidValue(f"cannot write {target}: {exc.strerror}", field="out") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target.resolve()
