"""`tandem campaign ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Campaigns: hold-out groups and measured lift.", no_args_is_help=True)
