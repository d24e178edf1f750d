"""`tandem resolve` and `tandem identities export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    open_workspace,
    print_json,
    progress,
    success,
)

identities_app = typer.Typer(
    help="Identities: which customer each source record belongs to.", no_args_is_help=True
)

_LABELS = {
    "identifiers": "extracting identifiers",
    "matching": "probabilistic matching",
    "graph": "identity graph",
    "ids": "customer ids",
    "write": "writing identities",
    "profiles": "building profiles",
}


def resolve(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Resolve identities across channels into customers, then rebuild the profiles.

    Example: tandem resolve --json
    """
    from tandem.customers.resolve import resolve as run_resolve

    with open_workspace(workspace) as ws, progress("resolving identities", quiet=json) as bar:
        task = bar.tasks[0].id

        def advance(stage: str, done: int, total: int) -> None:
            bar.update(
                task,
                description=_LABELS.get(stage, stage),
                completed=done,
                total=total,
            )

        result = run_resolve(ws, progress=advance)
    data = result.to_dict()
    if json:
        print_json(data)
        return
    _summary(data)


def _summary(data: dict[str, Any]) -> None:
    seconds = data["seconds"]
    success(
        f"resolved {data['records']:,} records into {data['customers']:,} customers "
        f"(run {data['run']}, {seconds.get('total', 0):.1f} s)"
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    rows = [
        ("records", data["records"]),
        ("identifiers (valid)", data["identifiers"]),
        ("identifiers (invalid, not used)", data["invalid_identifiers"]),
        ("customers", data["customers"]),
        ("merges by deterministic rule", data["merges_deterministic"]),
        ("merges by probabilistic match", data["merges_probabilistic"]),
        ("shared identifiers ignored", data["shared_identifiers"]),
        ("identifiers dropped by a limit", data["limited_identifiers"]),
        ("customer ids: new", data["ids_new"]),
        ("customer ids: continued", data["ids_continued"]),
        ("customer ids: merged into older ones", data["ids_merged"]),
        ("profiles", data["profiles"]),
    ]
    for label, value in rows:
        table.add_row(label, f"{value:,}")
    console.print(table)
    if data["records"] == 0:
        console.print("No events yet. Import some: tandem ingest FILE --source NAME")


@identities_app.command("export")
def export(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FILE",
            help="A .csv or .parquet file: source, record_id, customer_id.",
            dir_okay=False,
        ),
    ],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Export which customer each source record belongs to (one row per record).

    Example: tandem identities export --out identities.csv
    """
    from tandem.customers.identity import export_identities

    with open_workspace(workspace) as ws:
        rows = export_identities(ws.lake, out)
    if json:
        print_json({"file": str(out), "rows": rows})
        return
    success(f"wrote {rows:,} records to {out}")


def register(app: typer.Typer) -> None:
    app.command("resolve")(resolve)
    app.add_typer(identities_app, name="identities")
