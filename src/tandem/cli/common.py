"""What every command shares: the --workspace and --json options, output, progress."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tandem.workspace import Workspace

if TYPE_CHECKING:
    from tandem.ownership.findings import Finding

# A pipe gets wide lines rather than Rich's 80 columns, so tables are not cut (COLUMNS still wins).
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(highlight=False, soft_wrap=False, width=_PIPE_WIDTH)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        metavar="DIR",
        help="Workspace folder (default: $TANDEM_WORKSPACE, else the current folder).",
        show_default=False,
        file_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def open_workspace(path: Path | None) -> Iterator[Workspace]:
    ws = Workspace.open(path)
    try:
        yield ws
    finally:
        ws.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def success(message: str) -> None:
    console.print(f"[green]✓[/green] {message}")


@contextmanager
def progress(description: str, *, quiet: bool = False) -> Iterator[Progress]:
    """A Rich progress bar on a terminal; silent when output is piped or --json is given."""
    enabled = not quiet and sys.stderr.isatty()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=True,
    )
    with bar:
        bar.add_task(description, total=None)
        yield bar


SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def print_finding(finding: Finding) -> None:
    """A finding: severity, title, rule, why, and the seed quote behind it."""
    style = SEVERITY_STYLE[finding.severity]
    console.print(
        f"[{style}]{finding.severity.upper():<6}[/{style}] [bold]{finding.title}[/bold]"
        f"  [dim]({finding.rule})[/dim]"
    )
    console.print(f"       {finding.why}", soft_wrap=True)
    seed = finding.citation
    console.print(
        f"       [dim]Seed {seed.seed}, {seed.source.title}: “{seed.quote}”[/dim]", soft_wrap=True
    )
