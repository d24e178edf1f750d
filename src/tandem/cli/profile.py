"""`tandem profile show` (a unified profile and why its records were merged) and `tandem forget`
(erase a person everywhere, for a right-to-be-forgotten request)."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated, Any

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    open_workspace,
    print_json,
    progress,
    success,
)
from tandem.customers.forget import forget, plan_forget
from tandem.customers.profiles import profile_view

app = typer.Typer(
    help="Profiles: one customer's unified profile and the reasons behind it.",
    no_args_is_help=True,
)

IdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="A customer id (cus_...), or an identifier: email, phone, user id, TYPE:VALUE.",
    ),
]


@app.command("show")
def show(ident: IdArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Show a customer's unified profile and why its records were merged.

    Example: tandem profile show jo@example.com
    """
    with open_workspace(workspace) as ws:
        view = profile_view(ws, ident)
    if json:
        print_json(view)
        return
    _print_view(view)


def _print_view(view: dict[str, Any]) -> None:
    p = view["profile"]
    name = " ".join(x for x in (p["first_name"], p["last_name"]) if x) or "(no name)"
    console.print(f"[bold]{view['customer_id']}[/bold]  {name}")
    if view["merged_from"]:
        console.print(f"{view['merged_from']} was merged into {view['customer_id']}")
    for label, value in (
        ("email", p["email"]),
        ("phone", p["phone"]),
        ("sources", ", ".join(p["sources"] or [])),
        ("mapped records", p["records"]),
        ("events", p["events"]),
        ("first seen", p["first_seen"]),
        ("last seen", p["last_seen"]),
        ("orders", f"{p['orders']} (revenue {p['revenue']:,.2f})"),
        ("RFM", _rfm(p)),
        ("marketing", _consent(p["marketing_opt_in"])),
    ):
        console.print(f"{label + ':':<16}{value if value is not None else '-'}", markup=False)

    traits = Table("trait", "value", "source", title="Golden traits")
    for key, value in p["traits"].items():
        shown = value if isinstance(value, str) else jsonlib.dumps(value, ensure_ascii=False)
        traits.add_row(key, shown, p["trait_sources"].get(key, "-"))
    console.print(traits)

    ids = Table("type", "values", title="Identifiers")
    for id_type, values in p["identifiers"].items():
        ids.add_row(id_type, ", ".join(values))
    console.print(ids)

    behaviour = Table("by type", "events", "by channel", "events", title="Behaviour")
    types = list(p["events_by_type"].items())
    channels = list(p["events_by_channel"].items())
    for i in range(max(len(types), len(channels))):
        t = types[i] if i < len(types) else ("", "")
        c = channels[i] if i < len(channels) else ("", "")
        behaviour.add_row(t[0], str(t[1]), c[0], str(c[1]))
    console.print(behaviour)

    if p["consent"]:
        consent = Table("consent trait", "given", "source", "at", title="Consent")
        for key, c in p["consent"].items():
            consent.add_row(key, _consent(c["given"]), c["source"], str(c["at"]))
        console.print(consent)
    _print_explanation(view["explanation"])


def _print_explanation(explained: dict[str, Any]) -> None:
    links = Table("kind", "why", title="Why these records are one customer")
    for link in explained["links"]:
        links.add_row(link["kind"], link["why"])
    if not explained["links"]:
        links.add_row("-", "nothing was merged")
    console.print(links)
    if explained["merged_ids"]:
        console.print(f"older ids merged into it: {', '.join(explained['merged_ids'])}")
    console.print(f"records and messages: {len(explained['records'])}", markup=False)


def _rfm(p: dict[str, Any]) -> str:
    if p["rfm"] is None:
        return "- (no orders)"
    return (
        f"{p['rfm']} (last order {p['recency_days']} days ago, {p['frequency']} orders, "
        f"{p['monetary']:,.2f})"
    )


def _consent(given: bool | None) -> str:
    return "-" if given is None else ("opted in" if given else "opted out")


def forget_command(
    identifier: Annotated[
        str,
        typer.Argument(
            metavar="IDENTIFIER",
            help="Email, phone, user id, TYPE:VALUE or customer id of the person to erase.",
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Also delete the old data files at once (no time travel to before the "
            "erasure; run it when no other process is writing).",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Erase a person from every lake table (right to be forgotten); logged without the data.

    Example: tandem forget jo@example.com --yes
    """
    if json and not yes:  # refused before the search for the person's data
        err_console.print("--json needs --yes (there is no prompt in JSON mode)")
        raise typer.Exit(1)
    with open_workspace(workspace) as ws:
        with progress("finding the person's data", quiet=json):
            plan = plan_forget(ws, identifier)
        summary = plan.summary()
        if not yes:
            confirmed = typer.confirm(
                f"Erase {summary['customers']} customer(s), {summary['events']} event(s) and "
                f"{summary['quarantine']} quarantined row(s)? This cannot be undone",
                default=False,
                err=True,
            )
            if not confirmed:
                err_console.print("nothing erased")
                raise typer.Exit(1)
        with progress("erasing", quiet=json):
            result = forget(ws, plan, requested_by="cli", vacuum=vacuum)
    if json:
        print_json(result.to_dict())
        return
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    success(f"erased {result.customers} customer(s): rows deleted: {rows}")
    if vacuum:
        console.print(f"old data files removed: {result.vacuumed_files}", markup=False)
    else:
        console.print(
            "The rows are gone from the current tables; older table versions keep them until "
            "their files are vacuumed: run forget with --vacuum to remove them now.",
            markup=False,
        )
    console.print(f"logged as erasure #{result.erasure_id} (no personal data)", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="profile")
    root.command("forget")(forget_command)
