"""`tandem segment ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Segments: customers chosen by traits and behaviour.", no_args_is_help=True)
