"""`tandem init` and `tandem status`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tandem.cli.common import JsonOption, WorkspaceOption, console, open_workspace, print_json
from tandem.workspace import Workspace


def init(
    directory: Annotated[
        str,
        typer.Argument(metavar="DIRECTORY", help="Folder for the workspace (created if missing)."),
    ],
    company: Annotated[
        str | None, typer.Option(help="Company name (default: the folder's name).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the metadata store (default: SQLite file in the folder).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Create a workspace: tandem.toml, the metadata database and the lake/ folder.

    Example: tandem init acme --company "Acme Retail"
    """
    ws = Workspace.init(directory, company=company, database_url=database_url)
    try:
        summary = {
            "workspace": str(ws.root),
            "database": ws.db.display_url,
            "lake": ws.lake_path,
        }
        if json:
            print_json(summary)
            return
        console.print(f"Created Tandem workspace [bold]{ws.root}[/bold]")
        console.print(f"  metadata: {summary['database']}")
        if database_url is None and os.environ.get("TANDEM_DATABASE_URL"):
            console.print(
                "            (from $TANDEM_DATABASE_URL, which is not written to tandem.toml: "
                "keep it set, or put database_url in tandem.toml)"
            )
        console.print(f"  lake:     {summary['lake']}")
        console.print(
            "Next: describe who owns what in a YAML file and run "
            f"`tandem ownership import FILE --workspace {directory}` "
            "(see `tandem ownership export` for the format)."
        )
    finally:
        ws.close()


def status(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Summarise a workspace: company, stores, counts and findings by severity.

    Example: tandem status --workspace acme
    """
    with open_workspace(workspace) as ws:
        model = ws.ownership.model()
        findings = ws.ownership.findings(model)
        by_severity = {
            s: sum(1 for f in findings if f.severity == s) for s in ("high", "medium", "low")
        }
        data = {
            "workspace": str(ws.root),
            "company": model.company.name if model.company else None,
            "database": ws.db.display_url,
            "lake": ws.lake_path,
            "functions": len(model.functions),
            "people": sum(len(f.people) for f in model.functions),
            "capabilities": len(model.capabilities),
            "responsibilities": model.responsibility_count(),
            "governance_bodies": len(model.bodies),
            "findings": by_severity,
        }
        if json:
            print_json(data)
            return
        console.print(f"[bold]{data['company'] or ws.root.name}[/bold]  ({ws.root})")
        for label in ("database", "lake"):
            console.print(f"  {label:<18}{data[label]}")
        for label in (
            "functions",
            "people",
            "capabilities",
            "responsibilities",
            "governance_bodies",
        ):
            console.print(f"  {label.replace('_', ' '):<18}{data[label]}")
        console.print(
            f"  findings          {by_severity['high']} high, {by_severity['medium']} medium, "
            f"{by_severity['low']} low (`tandem ownership findings`)"
        )


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
