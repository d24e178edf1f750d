"""`tandem initiative ...`: jointly owned digital initiatives, their teams and KPIs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    open_workspace,
    print_finding,
    print_json,
    success,
)
from tandem.collaboration.initiatives import InitiativeInfo, KpiInfo, MemberSpec
from tandem.errors import InvalidValue

app = typer.Typer(
    help="Digital initiatives: joint owners, team, status, origin and KPIs.", no_args_is_help=True
)
kpi_app = typer.Typer(help="KPIs of an initiative.", no_args_is_help=True)
app.add_typer(kpi_app, name="kpi")

KeyArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The initiative's key, e.g. click-collect-relaunch.")
]
OwnerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--owner",
        "-o",
        metavar="FUNCTION",
        help="Owning function key; give it twice or more (at least two owners).",
    ),
]
MemberOption = Annotated[
    list[str] | None,
    typer.Option(
        "--member",
        "-m",
        metavar="NAME[=FUNCTION]",
        help="Team member: a person of the ownership model, or Name=function-key.",
    ),
]
TitleOption = Annotated[str | None, typer.Option("--title", help="Readable title.")]
GoalOption = Annotated[str | None, typer.Option("--goal", help="What the initiative is for.")]
StatusOption = Annotated[
    str | None, typer.Option("--status", help="proposed, active, done or stopped.")
]
OriginOption = Annotated[
    str | None,
    typer.Option(
        "--origin", help="top-down (from the steering committee) or bottom-up (from a team)."
    ),
]
CustomerOption = Annotated[
    bool | None,
    typer.Option(
        "--customer-facing/--internal",
        help="Whether it engages customers (then marketing and IT should both own it).",
        show_default=False,
    ),
]


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(
            f"`{value}` is not a date", field=field, detail="write it as YYYY-MM-DD"
        ) from None


StartOption = Annotated[
    str | None, typer.Option("--start", metavar="YYYY-MM-DD", help="Start date.")
]
EndOption = Annotated[str | None, typer.Option("--end", metavar="YYYY-MM-DD", help="End date.")]


def _kpi_line(kpi: KpiInfo) -> str:
    p = kpi.progress
    sign = "≥" if kpi.direction == "at_least" else "≤"
    unit = f" {kpi.unit}" if kpi.unit else ""
    current = "-" if p.current is None else f"{p.current:g}{unit}"
    return f"{kpi.name}: {current} (target {sign} {kpi.target:g}{unit}) {p.status}"


def _print_initiative(item: InitiativeInfo) -> None:
    console.print(f"[bold]{item.title}[/bold]  [dim]({item.key})[/dim]")
    rows = [
        ("goal", item.goal or "-"),
        ("status", item.status),
        ("origin", item.origin),
        ("customer facing", "yes" if item.customer_facing else "no"),
        ("dates", f"{item.start or '?'} to {item.end or '?'}"),
        ("owners", ", ".join(item.owners)),
        ("functions", ", ".join(item.functions)),
    ]
    for label, value in rows:
        console.print(f"  {label:<16}{value}")
    if item.members:
        console.print("  team")
        for m in item.members:
            role = f", {m.role}" if m.role else ""
            console.print(f"    {m.name} ({m.function}{role})")
    if item.kpis:
        table = Table("KPI", "measure", "current", "target", "baseline", "progress", "reports")
        for k in item.kpis:
            p = k.progress
            sign = "≥" if k.direction == "at_least" else "≤"
            table.add_row(
                k.name,
                k.measure,
                "-" if p.current is None else f"{p.current:g}",
                f"{sign} {k.target:g}{' ' + k.unit if k.unit else ''}",
                "-" if p.baseline is None else f"{p.baseline:g}",
                p.status,
                str(len(k.history)),
            )
        console.print(table)
        for k in item.kpis:
            if k.history:
                values = ", ".join(f"{d.isoformat()} {v:g}" for d, v, _ in k.history)
                console.print(f"  {k.name} history: {values}", soft_wrap=True)


@app.command()
def add(
    name: KeyArgument,
    owner: OwnerOption = None,
    member: MemberOption = None,
    title: TitleOption = None,
    goal: GoalOption = None,
    status: StatusOption = None,
    origin: OriginOption = None,
    customer_facing: CustomerOption = None,
    start: StartOption = None,
    end: EndOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Add an initiative owned by two or more functions.

    Example: tandem initiative add app-relaunch -o marketing -o it --customer-facing --status active
    """
    with open_workspace(workspace) as ws:
        item = ws.initiatives.add(
            name,
            owners=owner or [],
            members=[MemberSpec.parse(m) for m in member or []],
            title=title,
            goal=goal or "",
            status=status or "proposed",
            origin=origin or "top-down",
            customer_facing=bool(customer_facing),
            start=_date(start, "start"),
            end=_date(end, "end"),
        )
    if json:
        print_json(item.to_dict())
        return
    success(f"added initiative {item.key} owned by {', '.join(item.owners)}")


@app.command("list")
def list_(
    status: StatusOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """List initiatives with owners, status and KPI progress.

    Example: tandem initiative list --status active
    """
    with open_workspace(workspace) as ws:
        items = ws.initiatives.list(status=status)
    if json:
        print_json([i.to_dict() for i in items])
        return
    if not items:
        console.print("no initiatives yet: add one with `tandem initiative add`")
        return
    table = Table("key", "title", "status", "origin", "owners", "team", "KPIs met")
    for i in items:
        met = sum(1 for k in i.kpis if k.progress.met)
        table.add_row(
            i.key,
            i.title,
            i.status,
            i.origin,
            ", ".join(i.owners),
            str(len(i.members)),
            f"{met}/{len(i.kpis)}" if i.kpis else "-",
        )
    console.print(table)


@app.command()
def show(
    name: KeyArgument,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Show an initiative: owners, team, dates, KPIs with progress, and its findings.

    Example: tandem initiative show app-relaunch --json
    """
    with open_workspace(workspace) as ws:
        item = ws.initiatives.get(name)
        found = ws.initiatives.findings([item])
    found = [f for f in found if f.rule != "initiatives-one-way"]
    if json:
        print_json({**item.to_dict(), "findings": [f.to_dict() for f in found]})
        return
    _print_initiative(item)
    for finding in found:
        print_finding(finding)


@app.command()
def update(
    name: KeyArgument,
    owner: OwnerOption = None,
    add_member: MemberOption = None,
    remove_member: Annotated[
        list[str] | None,
        typer.Option("--remove-member", metavar="NAME", help="Take a member off the team."),
    ] = None,
    title: TitleOption = None,
    goal: GoalOption = None,
    status: StatusOption = None,
    origin: OriginOption = None,
    customer_facing: CustomerOption = None,
    start: StartOption = None,
    end: EndOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Change an initiative (--owner replaces the owners; members are added or removed).

    Example: tandem initiative update app-relaunch --status done --end 2026-10-31
    """
    with open_workspace(workspace) as ws:
        item = ws.initiatives.update(
            name,
            owners=owner or None,
            add_members=[MemberSpec.parse(m) for m in add_member or []],
            remove_members=remove_member or [],
            title=title,
            goal=goal,
            status=status,
            origin=origin,
            customer_facing=customer_facing,
            start=_date(start, "start"),
            end=_date(end, "end"),
        )
    if json:
        print_json(item.to_dict())
        return
    success(f"updated initiative {item.key}")


@app.command("import")
def import_(
    path: Annotated[
        Path, typer.Argument(metavar="FILE", help="Initiatives YAML file.", dir_okay=False)
    ],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Add or replace the initiatives of a YAML file, KPIs and history included, all or nothing.

    Example: tandem initiative import initiatives.yaml
    """
    with open_workspace(workspace) as ws:
        keys = ws.initiatives.import_file(path)
    if json:
        print_json({"imported": keys})
        return
    success(f"imported {len(keys)} initiative{'s' if len(keys) != 1 else ''}: {', '.join(keys)}")


@app.command()
def remove(name: KeyArgument, workspace: WorkspaceOption = None) -> None:
    """Remove an initiative with its team and KPIs.

    Example: tandem initiative remove app-relaunch
    """
    with open_workspace(workspace) as ws:
        ws.initiatives.remove(name)
    success(f"removed initiative {name}")


@app.command()
def findings(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Report initiatives that break the seeds' advice (customer-facing work without marketing
    and IT as owners; change coming one way only).

    Example: tandem initiative findings --json
    """
    with open_workspace(workspace) as ws:
        found = ws.initiatives.findings()
    if json:
        print_json([f.to_dict() for f in found])
        return
    if not found:
        success("no findings: initiatives are jointly owned and come both ways")
        return
    for finding in found:
        print_finding(finding)


@kpi_app.command("add")
def kpi_add(
    name: KeyArgument,
    kpi: Annotated[str, typer.Argument(metavar="KPI", help="The KPI's key, e.g. app-rating.")],
    target: Annotated[float, typer.Option("--target", help="The target value.")],
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="manual, survey:NAME:QUESTION, segment:NAME or campaign:NAME:METRIC.",
        ),
    ] = "manual",
    at_most: Annotated[
        bool, typer.Option("--at-most", help="Lower is better (default: at least the target).")
    ] = False,
    label: Annotated[str | None, typer.Option("--name", help="Readable KPI name.")] = None,
    baseline: Annotated[float | None, typer.Option("--baseline", help="Starting value.")] = None,
    unit: Annotated[str, typer.Option("--unit", help="Unit shown beside values.")] = "",
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Add a KPI: a target on a Tandem measure or on a manually reported number.

    Example: tandem initiative kpi add app-relaunch app-rating --target 4.5 --unit stars
    """
    with open_workspace(workspace) as ws:
        info = ws.initiatives.add_kpi(
            name,
            kpi,
            target=target,
            name=label,
            measure=measure,
            direction="at_most" if at_most else "at_least",
            baseline=baseline,
            unit=unit,
        )
    if json:
        print_json(info.to_dict())
        return
    success(f"added KPI {info.key} to {name}: {_kpi_line(info)}")


@kpi_app.command("remove")
def kpi_remove(
    name: KeyArgument,
    kpi: Annotated[str, typer.Argument(metavar="KPI", help="The KPI's key.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a KPI and its reported values.

    Example: tandem initiative kpi remove app-relaunch app-rating
    """
    with open_workspace(workspace) as ws:
        ws.initiatives.remove_kpi(name, kpi)
    success(f"removed KPI {kpi} from {name}")


@app.command()
def report(
    name: KeyArgument,
    kpi: Annotated[str, typer.Argument(metavar="KPI", help="The KPI's key.")],
    value: Annotated[float, typer.Argument(metavar="VALUE", help="The value reported.")],
    on: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="Date of the value (default: today)."),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A note kept with the value.")] = "",
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Report a value of a manual KPI; the history is kept.

    Example: tandem initiative report app-relaunch app-rating 4.1 --date 2026-09-30
    """
    with open_workspace(workspace) as ws:
        info = ws.initiatives.report(name, kpi, value, on=_date(on, "date"), note=note)
    if json:
        print_json(info.to_dict())
        return
    success(_kpi_line(info))
