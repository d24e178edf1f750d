"""`tandem ingest`, `tandem events count`, `tandem quarantine show`, `tandem lake compact`."""

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
from tandem.customers.ingest import FORMATS, IngestResult, ingest_file
from tandem.customers.mapping import Mapping
from tandem.lake.maintenance import MIN_VACUUM_RETENTION_HOURS, check_vacuum_retention

events_app = typer.Typer(
    help="Events in the lake: counts by source and type.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="Quarantine: rejected messages and file rows, with the reason.", no_args_is_help=True
)
lake_app = typer.Typer(help="The customer data lake: maintenance.", no_args_is_help=True)

SourceFilter = Annotated[
    str | None, typer.Option("--source", metavar="NAME", help="Only this source.")
]


def ingest(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="NDJSON, JSON, CSV or Parquet file.")
    ],
    source: Annotated[
        str, typer.Option("--source", metavar="NAME", help="The source the data comes from.")
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help=f"One of {', '.join(FORMATS)} (default: from the file's extension).",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="MAP.yaml",
            help="Column mapping: records become identify messages.",
            dir_okay=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Import a file of messages (or mapped records) into the lake, with a summary.

    Example: tandem ingest crm.csv --source crm --mapping crm-map.yaml
    """
    chosen = Mapping.read(mapping) if mapping is not None else None
    with open_workspace(workspace) as ws:
        ws.sources.get(source)
        with progress(f"importing {file.name}", quiet=json) as bar:
            task = bar.tasks[0].id

            def advance(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            result = ingest_file(
                ws.lake, file, source=source, format=format, mapping=chosen, on_progress=advance
            )
    if json:
        print_json(result.to_dict())
        return
    _summary(result)


def _summary(result: IngestResult) -> None:
    success(
        f"imported {Path(result.file).name} into source {result.source} "
        f"({result.format}, {result.seconds:.1f} s)"
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row("rows read", f"{result.rows:,}")
    table.add_row("accepted", f"{result.accepted:,}")
    table.add_row("rejected (quarantined)", f"{result.rejected:,}")
    table.add_row("duplicates (already stored)", f"{result.duplicates:,}")
    console.print(table)
    if result.rejected:
        console.print(f"See why: tandem quarantine show --source {result.source}", markup=False)


@events_app.command("count")
def count(
    source: SourceFilter = None, workspace: WorkspaceOption = None, json: JsonOption = False
) -> None:
    """Count stored events by source and type (duplicates counted once).

    Example: tandem events count --source web --json
    """
    with open_workspace(workspace) as ws:
        events = ws.lake.events()
        if source is not None:
            events = events.filter(events.source == source)
        counts = (
            events.group_by(["source", "type"])
            .aggregate(events=events.count())
            .order_by(["source", "type"])
            .to_pyarrow()
            .to_pylist()
        )
    rows = [{"source": r["source"], "type": r["type"], "events": int(r["events"])} for r in counts]
    total = sum(r["events"] for r in rows)
    if json:
        print_json({"total": total, "counts": rows})
        return
    if not rows:
        where = f" from source {source}" if source else ""
        console.print(f"No events{where} yet. Import some: tandem ingest FILE --source NAME")
        return
    table = Table("source", "type", "events")
    table.columns[2].justify = "right"
    for r in rows:
        table.add_row(r["source"], r["type"], f"{r['events']:,}")
    table.add_row("total", "", f"{total:,}", style="bold")
    console.print(table)


@quarantine_app.command("show")
def show(
    source: SourceFilter = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 20,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Show rejected messages and file rows with the reason, newest first.

    Example: tandem quarantine show --source crm --limit 5
    """
    with open_workspace(workspace) as ws:
        rejected = ws.lake.quarantine()
        if source is not None:
            rejected = rejected.filter(rejected.source == source)
        total = int(rejected.count().to_pyarrow().as_py())
        rows = (
            rejected.order_by([rejected.ingested_at.desc(), rejected.index])
            .limit(limit)
            .to_pyarrow()
            .to_pylist()
        )
    items = [_quarantine_row(r) for r in rows]
    if json:
        print_json({"total": total, "shown": len(items), "rejected": items})
        return
    if not items:
        console.print("Nothing in quarantine" + (f" for source {source}." if source else "."))
        return
    table = Table("source", "origin", "row", "field", "reason", "raw")
    for r in items:
        raw = r["raw"] if len(r["raw"]) <= 60 else r["raw"][:57] + "..."
        table.add_row(
            r["source"],
            r["origin"],
            "" if r["index"] is None else str(r["index"]),
            r["field"] or "",
            r["reason"],
            raw,
        )
    console.print(table)
    console.print(f"{len(items)} of {total:,} shown (newest first)")


def _quarantine_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": row["source"],
        "origin": row["origin"],
        "index": row["index"],
        "field": row["field"],
        "reason": row["reason"],
        "raw": row["raw"],
        "received_at": row["received_at"].isoformat(),
        "ingested_at": row["ingested_at"].isoformat(),
    }


@lake_app.command("compact")
def compact(
    vacuum: Annotated[
        bool,
        typer.Option("--vacuum", help="Also delete unreferenced files older than the retention."),
    ] = False,
    retention_hours: Annotated[
        int,
        typer.Option(
            min=0,
            help=f"With --vacuum: keep files younger than this (at least "
            f"{MIN_VACUUM_RETENTION_HOURS} unless --force).",
        ),
    ] = 168,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --vacuum: allow a retention under "
            f"{MIN_VACUUM_RETENTION_HOURS} hour (only when no server or import uses the lake).",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Compact small files and remove duplicate events (vacuum only with --vacuum).

    Example: tandem lake compact --vacuum --retention-hours 24 --json
    """
    if vacuum:
        check_vacuum_retention(retention_hours, force=force)
    with open_workspace(workspace) as ws:
        result = ws.lake.compact(vacuum=vacuum, retention_hours=retention_hours)
    if json:
        print_json(result.to_dict())
        return
    table = Table("table", "files before", "files after", "rows", "duplicates removed", "vacuumed")
    for t in result.tables:
        table.add_row(
            t.table,
            str(t.files_before),
            str(t.files_after),
            f"{t.rows:,}",
            str(t.duplicates_removed),
            str(t.files_vacuumed),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(events_app, name="events")
    app.add_typer(quarantine_app, name="quarantine")
    app.add_typer(lake_app, name="lake")
