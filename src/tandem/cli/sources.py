"""`tandem sources ...`: channel feeds, their owners and write keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    open_workspace,
    print_json,
    success,
)
from tandem.customers.sources import SOURCE_KINDS, SourceInfo

app = typer.Typer(
    help="Sources: channel feeds (web, app, email, ...) with owners and write keys.",
    no_args_is_help=True,
)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Source name, a slug such as `web-shop`.")
]


def _owners(info: SourceInfo) -> str:
    return ", ".join(info.owners) or "-"


def _show_key(info: SourceInfo, write_key: str, *, json: bool, verb: str) -> None:
    if json:
        print_json({**info.to_dict(), "write_key": write_key})
        return
    success(f"{verb} source {info.name} ({info.kind}, owned by {_owners(info)})")
    console.print(f"write key: {write_key}", markup=False)
    err_console.print(
        "Keep this key now: it is shown only once (Tandem stores only its hash). "
        "Send it as the HTTP Basic user of POST /v1/... (Segment SDKs: writeKey)."
    )


@app.command("add")
def add(
    name: NameArgument,
    kind: Annotated[str, typer.Option(help=f"What the feed is: {', '.join(SOURCE_KINDS)}.")],
    owner: Annotated[
        list[str],
        typer.Option(
            "--owner", metavar="FUNCTION", help="Owning function key (repeat for joint owners)."
        ),
    ],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Add a source and print its write key (shown once).

    Example: tandem sources add web-shop --kind web --owner marketing --owner it
    """
    with open_workspace(workspace) as ws:
        info, write_key = ws.sources.add(name, kind=kind, owners=owner)
    _show_key(info, write_key, json=json, verb="added")


@app.command("list")
def list_(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List sources with their kind, owners and key hint.

    Example: tandem sources list --json
    """
    with open_workspace(workspace) as ws:
        infos = ws.sources.list()
    if json:
        print_json([info.to_dict() for info in infos])
        return
    if not infos:
        console.print("no sources yet: tandem sources add NAME --kind KIND --owner FUNCTION")
        return
    table = Table("name", "kind", "owners", "key", "created", "rotated")
    for info in infos:
        table.add_row(
            info.name,
            info.kind,
            _owners(info),
            info.key_hint,
            f"{info.created_at:%Y-%m-%d %H:%M}",
            f"{info.rotated_at:%Y-%m-%d %H:%M}" if info.rotated_at else "-",
        )
    console.print(table)


@app.command("show")
def show(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Show one source (never its key: only the first characters).

    Example: tandem sources show web-shop --json
    """
    with open_workspace(workspace) as ws:
        info = ws.sources.get(name)
    if json:
        print_json(info.to_dict())
        return
    for label, value in (
        ("name", info.name),
        ("kind", info.kind),
        ("owners", _owners(info)),
        ("write key", info.key_hint),
        ("created", info.created_at.isoformat()),
        ("key rotated", info.rotated_at.isoformat() if info.rotated_at else "never"),
    ):
        console.print(f"{label + ':':<13}{value}", markup=False)


@app.command("rotate-key")
def rotate_key(
    name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False
) -> None:
    """Give a source a new write key; the old key stops working (a running server: within 1 s).

    Example: tandem sources rotate-key web-shop
    """
    with open_workspace(workspace) as ws:
        write_key = ws.sources.rotate_key(name)
        info = ws.sources.get(name)
    _show_key(info, write_key, json=json, verb="rotated the key of")


@app.command("remove")
def remove(
    name: NameArgument,
    force: Annotated[
        bool,
        typer.Option("--force", help="Remove even if the lake holds its data (the data stays)."),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Remove a source and its key (refused while the lake holds its data, unless --force).

    Example: tandem sources remove old-newsletter
    """
    with open_workspace(workspace) as ws:
        stored = ws.sources.remove(name, force=force)
    if json:
        print_json({"removed": name, "rows_kept_in_lake": stored})
        return
    kept = f" ({stored:,} rows stay in the lake under its name)" if stored else ""
    success(f"removed source {name}{kept}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sources")
