"""`tandem functions|capabilities|people|governance ...`: the parts of the ownership model."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    open_workspace,
    print_json,
    success,
)
from tandem.errors import NotFound
from tandem.ownership.catalogue import BODY_KINDS, FUNCTION_KINDS


def _text(value: object) -> str:
    """A table cell: lists joined, None and empty as a dash, booleans as yes/no."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


functions_app = typer.Typer(
    help="The company's functions (marketing, IT, HR, ...).", no_args_is_help=True
)
capabilities_app = typer.Typer(help="The catalogue of digital capabilities.", no_args_is_help=True)
people_app = typer.Typer(
    help="People in functions, and who heads each function.", no_args_is_help=True
)
governance_app = typer.Typer(
    help="Governance bodies: steering committee, digital team, ...", no_args_is_help=True
)

KeyOption = Annotated[str | None, typer.Option("--key", help="Key (default: made from the name).")]


# -- functions ---------------------------------------------------------------------------------
@functions_app.command("list")
def functions_list(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List functions with their kind, head and number of people and responsibilities.

    Example: tandem functions list --json
    """
    with open_workspace(workspace) as ws:
        model = ws.ownership.model()
    counts = {f.key: 0 for f in model.functions}
    for cap in model.capabilities:
        for fn, roles in cap.owners.items():
            counts[fn] += len(roles)
    rows = [
        {
            "key": f.key,
            "name": f.name,
            "kind": f.kind,
            "head": f.head,
            "people": len(f.people),
            "responsibilities": counts[f.key],
            "description": f.description,
        }
        for f in model.functions
    ]
    if json:
        print_json(rows)
        return
    table = Table("key", "name", "kind", "head", "people", "responsibilities")
    for r in rows:
        table.add_row(
            *(_text(r[k]) for k in ("key", "name", "kind", "head", "people", "responsibilities"))
        )
    console.print(table)


@functions_app.command("add")
def functions_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help='Display name, e.g. "Data office".')],
    kind: Annotated[
        str, typer.Option(help=f"What the function is: {', '.join(FUNCTION_KINDS)}.")
    ] = "other",
    key: KeyOption = None,
    description: Annotated[str, typer.Option(help="One line on what it does.")] = "",
    workspace: WorkspaceOption = None,
) -> None:
    """Add a function to the company.

    Example: tandem functions add "E-commerce" --kind business
    """
    with open_workspace(workspace) as ws:
        created = ws.ownership.add_function(name, key=key, kind=kind, description=description)
    success(f"added function {created}")


@functions_app.command("rename")
def functions_rename(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Current key of the function.")],
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    new_key: Annotated[str | None, typer.Option("--new-key", help="New key.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Rename a function (its responsibilities follow it).

    Example: tandem functions rename marketing --name "Brand & Growth"
    """
    with open_workspace(workspace) as ws:
        final = ws.ownership.rename_function(key, name=name, new_key=new_key)
    success(f"renamed function {key}" + (f" to {final}" if final != key else ""))


@functions_app.command("remove")
def functions_remove(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Key of the function to remove.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a function, its people and its responsibilities.

    Example: tandem functions remove business-units
    """
    with open_workspace(workspace) as ws:
        dropped = ws.ownership.remove_function(key)
    success(f"removed function {key} and {dropped} responsibilities")


# -- capabilities ------------------------------------------------------------------------------
@capabilities_app.command("list")
def capabilities_list(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List the capability catalogue with who is accountable for each.

    Example: tandem capabilities list
    """
    with open_workspace(workspace) as ws:
        model = ws.ownership.model()
    rows = [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "customer_facing": c.customer_facing,
            "accountable": sorted(c.holders("A")),
        }
        for c in model.capabilities
    ]
    if json:
        print_json(rows)
        return
    table = Table("key", "name", "customer-facing", "accountable", "description")
    for r in rows:
        table.add_row(
            *(_text(r[k]) for k in ("key", "name", "customer_facing", "accountable", "description"))
        )
    console.print(table)


@capabilities_app.command("add")
def capabilities_add(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help='Display name, e.g. "Click & collect".')
    ],
    key: KeyOption = None,
    description: Annotated[str, typer.Option(help="One line on what it covers.")] = "",
    customer_facing: Annotated[
        bool, typer.Option("--customer-facing", help="Customers see or use it directly.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a capability to the catalogue.

    Example: tandem capabilities add "Click & collect" --customer-facing
    """
    with open_workspace(workspace) as ws:
        created = ws.ownership.add_capability(
            name, key=key, description=description, customer_facing=customer_facing
        )
    success(f"added capability {created}")


@capabilities_app.command("remove")
def capabilities_remove(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Key of the capability to remove.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a capability and its responsibilities.

    Example: tandem capabilities remove web-design
    """
    with open_workspace(workspace) as ws:
        ws.ownership.remove_capability(key)
    success(f"removed capability {key}")


# -- people ------------------------------------------------------------------------------------
@people_app.command("list")
def people_list(
    function: Annotated[str | None, typer.Option(help="Only this function's people.")] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """List people by function, heads first.

    Example: tandem people list --function marketing
    """
    with open_workspace(workspace) as ws:
        model = ws.ownership.model()
    if function is not None and model.function(function) is None:
        raise NotFound(f"no function `{function}`", field="function")
    rows = [
        {
            "function": f.key,
            "name": p.name,
            "title": p.title,
            "email": p.email,
            "head": p.name == f.head,
        }
        for f in model.functions
        if function is None or f.key == function
        for p in sorted(f.people, key=lambda p: p.name != f.head)
    ]
    if json:
        print_json(rows)
        return
    table = Table("function", "name", "title", "email", "head")
    for r in rows:
        table.add_row(*(_text(r[k]) for k in ("function", "name", "title", "email", "head")))
    console.print(table)


@people_app.command("add")
def people_add(
    function: Annotated[str, typer.Argument(metavar="FUNCTION", help="Function key.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="Full name.")],
    title: Annotated[str, typer.Option(help="Job title.")] = "",
    email: Annotated[str | None, typer.Option(help="Work email.")] = None,
    head: Annotated[bool, typer.Option("--head", help="This person heads the function.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a person to a function (optionally as its head).

    Example: tandem people add marketing "Ana Ruiz" --title CMO --head
    """
    with open_workspace(workspace) as ws:
        ws.ownership.add_person(function, name, title=title, email=email, head=head)
    success(f"added {name} to {function}" + (" as head" if head else ""))


@people_app.command("remove")
def people_remove(
    function: Annotated[str, typer.Argument(metavar="FUNCTION", help="Function key.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="Full name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a person from a function.

    Example: tandem people remove marketing "Ana Ruiz"
    """
    with open_workspace(workspace) as ws:
        ws.ownership.remove_person(function, name)
    success(f"removed {name} from {function}")


# -- governance --------------------------------------------------------------------------------
@governance_app.command("list")
def governance_list(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List governance bodies with their members and reporting lines.

    Example: tandem governance list --json
    """
    with open_workspace(workspace) as ws:
        model = ws.ownership.model()
    rows = [
        {
            "key": b.key,
            "name": b.name,
            "kind": b.kind,
            "members": list(b.members),
            "reports_to": list(b.reports_to),
            "description": b.description,
        }
        for b in model.bodies
    ]
    if json:
        print_json(rows)
        return
    table = Table("key", "name", "kind", "members", "reports to")
    for r in rows:
        table.add_row(*(_text(r[k]) for k in ("key", "name", "kind", "members", "reports_to")))
    console.print(table)


@governance_app.command("add")
def governance_add(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help='Display name, e.g. "Digital steering committee".')
    ],
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(BODY_KINDS)}.")],
    key: KeyOption = None,
    member: Annotated[
        list[str] | None,
        typer.Option("--member", metavar="FUNCTION", help="A member function (repeat the option)."),
    ] = None,
    reports_to: Annotated[
        list[str] | None,
        typer.Option(
            "--reports-to", metavar="FUNCTION", help="A function it reports to (repeat the option)."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a governance body: a steering committee, a digital team with its reporting lines.

    Example: tandem governance add "Digital team" --kind digital_team --reports-to it
    """
    with open_workspace(workspace) as ws:
        created = ws.ownership.add_body(
            name, kind=kind, key=key, members=member or [], reports_to=reports_to or []
        )
    success(f"added governance body {created}")


@governance_app.command("remove")
def governance_remove(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Key of the body to remove.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a governance body.

    Example: tandem governance remove steering-committee
    """
    with open_workspace(workspace) as ws:
        ws.ownership.remove_body(key)
    success(f"removed governance body {key}")
