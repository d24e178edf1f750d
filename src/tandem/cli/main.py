"""The `tandem` command: entry point, error handling and command groups."""

from __future__ import annotations

import sys
from typing import Any

import typer
from sqlalchemy.exc import DatabaseError
from typer.core import TyperGroup

from tandem import __version__
from tandem.cli import (
    campaign,
    catalogue,
    demo,
    ingest,
    initiative,
    network,
    ownership,
    profile,
    report,
    resolve,
    segment,
    serve,
    sources,
    survey,
    users,
    workspace,
)
from tandem.cli.common import err_console, print_json
from tandem.errors import DatabaseFailure, TandemError

JSON_ERRORS = "tandem.json_errors"


class TandemGroup(TyperGroup):
    """Turns a TandemError into a clear message and exit code 1 instead of a traceback.

    With --json the error is JSON on standard output (`{"error", "detail", "field", ...}`), as the
    HTTP API returns it, so scripts parse one format.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[JSON_ERRORS] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TandemError as exc:
            if ctx.meta.get(JSON_ERRORS):
                print_json(exc.to_dict())
                raise typer.Exit(1) from None
            lines = exc.lines()
            err_console.print(f"[bold red]error:[/bold red] {lines[0]}", markup=True)
            for line in lines[1:]:
                err_console.print(line, markup=False)
            raise typer.Exit(1) from None
        except DatabaseError as exc:
            failure = DatabaseFailure(f"the metadata database failed: {exc.orig}")
            if ctx.meta.get(JSON_ERRORS):
                print_json(failure.to_dict())
            else:
                err_console.print(f"[bold red]error:[/bold red] {failure.message}", markup=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="tandem",
    cls=TandemGroup,
    help="Tandem: run digital as a shared business (ownership, collaboration, customer truth).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"tandem {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Tandem: run digital as a shared business (ownership, collaboration, customer truth)."""


workspace.register(app)
app.add_typer(ownership.app, name="ownership")
app.add_typer(catalogue.functions_app, name="functions")
app.add_typer(catalogue.capabilities_app, name="capabilities")
app.add_typer(catalogue.people_app, name="people")
app.add_typer(catalogue.governance_app, name="governance")
app.add_typer(survey.app, name="survey")
app.add_typer(network.app, name="network")
app.add_typer(initiative.app, name="initiative")
demo.register(app)
serve.register(app)
report.register(app)
sources.register(app)
ingest.register(app)
profile.register(app)
resolve.register(app)
app.add_typer(segment.app, name="segment")
app.add_typer(campaign.app, name="campaign")
app.add_typer(users.app, name="users")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
