"""`tandem report`: the standalone HTML board report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    open_workspace,
    print_json,
    progress,
    success,
)


def report(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The HTML file to write.", dir_okay=False),
    ],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Write one standalone HTML file for a board (charts inlined, opens with no network).

    Example: tandem report --out board.html -w demo
    """
    from tandem.reporting.report import write_report

    with open_workspace(workspace) as ws, progress("writing the report", quiet=json):
        path = write_report(ws, out)
    size = path.stat().st_size
    if json:
        print_json({"report": str(path), "bytes": size})
        return
    success(f"wrote {path} ({size / 1_000_000:.1f} MB, open it in any browser)")


def register(app: typer.Typer) -> None:
    app.command()(report)
