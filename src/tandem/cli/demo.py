"""`tandem demo`: build the demo company and show it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tandem.cli.common import console, progress
from tandem.cli.ownership import findings as findings_command
from tandem.cli.ownership import show as show_command
from tandem.demo import build_demo
from tandem.demo.campaigns import BUCKET_TRAIT, DESIGNS

SHOWCASE = next(d.name for d in DESIGNS if d.only is not None)
"""The campaign the hint suggests: its lift differs by loyalty tier (harbour-club-preview)."""


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo workspace.", file_okay=False)
    ] = Path("tandem-demo"),
    customers: Annotated[
        int,
        typer.Option(
            min=0,
            help="People in the demo's channel data (web, app, email, social, service, CRM, "
            "ideas); 100000 takes one to two minutes.",
        ),
    ] = 2000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same company.")
    ] = 7,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild an existing demo folder.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard after building.")
    ] = True,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the dashboard (on 127.0.0.1).")
    ] = 8000,
) -> None:
    """Build the demo company (a mid-size retailer), print its matrix and findings.

    Example: tandem demo --dir demo --no-serve
    """
    with progress("building the demo company"):
        company = build_demo(directory, seed=seed, customers=customers, force=force)
    root = company.workspace.root
    company.workspace.close()
    console.print(f"[bold]Demo workspace:[/bold] {root}")
    for step in company.steps:
        console.print(f"  {step}")
    console.print()
    show_command(workspace=root, file=None, json=False)
    console.print()
    findings_command(workspace=root, file=None, severity=None, json=False)
    console.print()
    console.print(f"Explore: tandem status -w {root}   tandem ownership benchmark -w {root}")
    if SHOWCASE in company.campaigns:
        console.print(f"         tandem campaign results {SHOWCASE} --by {BUCKET_TRAIT} -w {root}")
    if serve:
        _serve_demo(root, port)


DEMO_ADMIN = "admin@harbourandvine.example"


def _serve_demo(root: Path, port: int) -> None:
    """Create the demo's admin (a fresh generated password each build) and serve the dashboard
    at http://127.0.0.1:PORT until Ctrl+C."""
    from tandem.cli.serve import serve as serve_command
    from tandem.workspace import Workspace

    with Workspace.open(root) as ws:
        _user, password = ws.accounts.add(DEMO_ADMIN, function="digital", role="admin")
    console.print()
    console.print(f"[bold]Dashboard:[/bold] http://127.0.0.1:{port}")
    console.print(f"  log in as [bold]{DEMO_ADMIN}[/bold] with password [bold]{password}[/bold]")
    console.print(f"  (more users: tandem users add EMAIL --function F --role R -w {root})")
    serve_command(workspace=root, host="127.0.0.1", port=port)


def register(app: typer.Typer) -> None:
    app.command()(demo)
