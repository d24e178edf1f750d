"""`tandem segment ...`: customers chosen by traits and behaviour, evaluated over time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml
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
from tandem.customers.segments import SegmentInfo, read_definition
from tandem.errors import InvalidValue
from tandem.times import parse_time

app = typer.Typer(help="Segments: customers chosen by traits and behaviour.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The segment's name.")]
FileArgument = Annotated[
    Path,
    typer.Argument(metavar="FILE", help="A segment definition (YAML or JSON).", dir_okay=False),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIME",
        help="Reference time of 'in the last D days' (ISO date or time, UTC; default now).",
    ),
]


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        raise InvalidValue(
            f"`{value}` is not a date or time",
            field="as_of",
            detail="write it as 2026-06-30 or 2026-06-30T12:00:00Z",
        )
    return moment


def _customers(n: int) -> str:
    return f"{n:,} customer{'' if n == 1 else 's'}"


def _print_segment(info: SegmentInfo) -> None:
    console.print(f"[bold]{info.name}[/bold]  {info.description}")
    console.print(f"  owners    {', '.join(info.owners)}")
    size = "not evaluated" if info.latest is None else f"{info.latest.size:,}"
    console.print(f"  size      {size}")
    console.print("  where")
    for line in yaml.safe_dump(
        info.definition["where"], sort_keys=False, allow_unicode=True
    ).splitlines():
        console.print(f"    {line}", soft_wrap=True, markup=False)
    if info.history:
        table = Table("evaluation", "evaluated at", "as of", "size")
        for e in info.history:
            table.add_row(
                str(e.evaluation),
                e.evaluated_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.as_of.strftime("%Y-%m-%d %H:%M:%S") if e.as_of else "-",
                f"{e.size:,}",
            )
        console.print(table)


@app.command()
def create(
    file: FileArgument,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Validate a segment definition, save it, evaluate it and print its size.

    Example: tandem segment create lapsed-buyers.yaml
    """
    loaded = read_definition(file)
    with open_workspace(workspace) as ws, progress("evaluating", quiet=json):
        info = ws.segments.create(loaded, as_of=_as_of(as_of))
    if json:
        print_json(info.to_dict())
        return
    success(f"created segment {info.name}: {_customers(info.size or 0)}")


@app.command()
def preview(
    file: FileArgument,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Print the size a segment definition would have, without saving it.

    Example: tandem segment preview lapsed-buyers.yaml --as-of 2026-06-30
    """
    loaded = read_definition(file)
    with open_workspace(workspace) as ws, progress("evaluating", quiet=json):
        size = ws.segments.preview(loaded, as_of=_as_of(as_of))
    if json:
        print_json({"name": loaded.definition.name, "size": size})
        return
    console.print(f"{loaded.definition.name}: {_customers(size)} (not saved)")


@app.command("list")
def list_(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List segments with owners and latest size.

    Example: tandem segment list --json
    """
    with open_workspace(workspace) as ws:
        items = ws.segments.list()
    if json:
        print_json([i.to_dict() for i in items])
        return
    if not items:
        console.print("no segments yet: create one with `tandem segment create FILE`")
        return
    table = Table("name", "owners", "size", "evaluated", "description")
    for i in items:
        table.add_row(
            i.name,
            ", ".join(i.owners),
            "-" if i.latest is None else f"{i.latest.size:,}",
            "-" if i.latest is None else i.latest.evaluated_at.strftime("%Y-%m-%d %H:%M"),
            i.description,
        )
    console.print(table)


@app.command()
def show(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Show a segment: definition, size and size over time (its evaluations).

    Example: tandem segment show lapsed-buyers
    """
    with open_workspace(workspace) as ws:
        info = ws.segments.get(name)
    if json:
        print_json(info.to_dict())
        return
    _print_segment(info)


@app.command()
def evaluate(
    name: NameArgument,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Evaluate a segment again (a new evaluation in its history) and print its size.

    Example: tandem segment evaluate lapsed-buyers --as-of 2026-06-30
    """
    with open_workspace(workspace) as ws, progress("evaluating", quiet=json):
        result = ws.segments.evaluate(name, as_of=_as_of(as_of))
    if json:
        print_json(result.to_dict())
        return
    success(f"segment {name}, evaluation {result.evaluation}: {_customers(result.size)}")


@app.command()
def export(
    name: NameArgument,
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="FILE", help="A .csv file: customer_id and the traits.", dir_okay=False
        ),
    ],
    trait: Annotated[
        list[str] | None,
        typer.Option(
            "--trait",
            "-t",
            metavar="TRAIT",
            help="A trait to add as a column (profile column or golden trait); repeat it.",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Export the members of a segment's latest evaluation with chosen traits to CSV.

    Example: tandem segment export lapsed-buyers --out lapsed.csv --trait email --trait orders
    """
    with open_workspace(workspace) as ws:
        rows = ws.segments.export(name, out, trait or [])
    if json:
        print_json({"file": str(out), "rows": rows})
        return
    success(f"wrote {_customers(rows)} to {out}")


@app.command()
def delete(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Delete a segment, its history and its stored memberships.

    Example: tandem segment delete lapsed-buyers
    """
    with open_workspace(workspace) as ws:
        rows = ws.segments.delete(name)
    if json:
        print_json({"deleted": name, "membership_rows": rows})
        return
    success(f"deleted segment {name} ({rows:,} membership rows)")
