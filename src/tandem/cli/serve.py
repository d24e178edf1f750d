"""`tandem serve`: the HTTP server (ingest endpoints, REST API, dashboard)."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from tandem.cli.common import WorkspaceOption, err_console, open_workspace
from tandem.errors import Conflict, InvalidValue


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
        listener = bind(host, port)
        app = create_app(ws)
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        err_console.print(f"Serving {ws.root} at http://{host}:{port}  (Ctrl+C stops)")
        with listener:
            uvicorn.Server(config).run(sockets=[listener])


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a clear error when the address is unknown or already in use."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidValue(f"cannot listen on {host!r}: {exc.strerror}", field="host") from None
    family, kind, proto, _name, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise Conflict(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            detail="another program (perhaps another `tandem serve`) uses it; pick another --port",
            field="port",
        ) from None
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def register(app: typer.Typer) -> None:
    app.command()(serve)
