"""`tandem serve`: the HTTP server (ingest endpoints, REST API, dashboard)."""

from __future__ import annotations

from typing import Annotated

import typer

from tandem.cli.common import WorkspaceOption, err_console, open_workspace


def serve(
    workspace: WorkspaceOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the workspace over HTTP: Segment-compatible /v1 ingest, /api, dashboard.

    Example: tandem serve -w demo --port 8000
    """
    import uvicorn

    from tandem.server import create_app

    with open_workspace(workspace) as ws:
        app = create_app(ws)
        err_console.print(f"Serving {ws.root} at http://{host}:{port}  (Ctrl+C stops)")
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
