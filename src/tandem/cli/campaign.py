"""`tandem campaign ...`: campaigns with hold-out groups, their assignment, exposures and lift."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
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
from tandem.errors import InvalidValue
from tandem.times import parse_time

app = typer.Typer(help="Campaigns: hold-out groups and measured lift.", no_args_is_help=True)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The campaign's name, e.g. spring-winback.")
]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@app.command()
def create(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Campaign definition (YAML or JSON).")
    ],
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Create a campaign from a definition file (target, arms, metrics, exposures).

    Example: tandem campaign create spring-winback.yaml
    """
    with open_workspace(workspace) as ws:
        info = ws.campaigns.create(file)
    if json:
        print_json(info.to_dict())
        return
    success(f"created campaign {info.name} owned by {', '.join(info.owners)}")
    for warning in info.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(f"next: tandem campaign assign {info.name}")


@app.command("list")
def list_(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List campaigns with their target, arms and dates.

    Example: tandem campaign list --json
    """
    with open_workspace(workspace) as ws:
        items = ws.campaigns.list()
    if json:
        print_json([i.to_dict() for i in items])
        return
    if not items:
        console.print("no campaigns yet: create one with `tandem campaign create FILE`")
        return
    table = Table("name", "channel", "target", "arms", "metrics", "start", "end", "owners")
    for i in items:
        d = i.definition
        target = f"segment {d.segment}" if d.segment else f"{len(d.customers or [])} customers"
        table.add_row(
            d.name,
            d.channel,
            target,
            ", ".join(f"{a.name} {a.share:.0%}" for a in d.arms),
            ", ".join(x.name for x in d.metrics),
            d.start.date().isoformat(),
            d.end.date().isoformat(),
            ", ".join(d.owners),
        )
    console.print(table)


@app.command()
def show(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Show a campaign's definition and how many customers each arm has.

    Example: tandem campaign show spring-winback
    """
    with open_workspace(workspace) as ws:
        info = ws.campaigns.get(name)
        counts = ws.campaigns.assignment_counts(info.definition)
    if json:
        print_json({**info.to_dict(), "assigned": counts})
        return
    d = info.definition
    console.print(f"[bold]{d.name}[/bold]  [dim]({d.channel})[/dim]")
    rows = [
        ("description", d.description or "-"),
        ("owners", ", ".join(d.owners)),
        ("target", f"segment {d.segment}" if d.segment else f"{len(d.customers or [])} customers"),
        ("dates", f"{d.start.isoformat()} to {d.end.isoformat()}"),
        ("salt", d.effective_salt),
    ]
    for label, value in rows:
        console.print(f"  {label:<13}{value}")
    table = Table("arm", "share", "control", "assigned")
    for arm in d.arms:
        table.add_row(
            arm.name, f"{arm.share:.0%}", "yes" if arm.control else "", str(counts[arm.name])
        )
    console.print(table)
    metrics = Table("metric", "kind", "event", "window", "covariate")
    for x in d.metrics:
        c = x.covariate
        cov = (
            "-"
            if c is None
            else (f"{c.pre_period_days} days before" if c.pre_period_days else f"trait {c.trait}")
        )
        event = x.event + (f" ({x.property})" if x.property else "")
        metrics.add_row(x.name, x.kind, event, f"{x.window_days} days", cov)
    console.print(metrics)
    if d.exposures:
        console.print("  exposures: " + ", ".join(f"{e.kind} = {e.event}" for e in d.exposures))


@app.command()
def assign(
    name: NameArgument,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Evaluate the target segment first.")
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Assign the target's customers to arms by the hash rule (already assigned ones stay).

    Example: tandem campaign assign spring-winback --evaluate
    """
    with open_workspace(workspace) as ws, progress("assigning", quiet=json):
        summary = ws.campaigns.assign(name, evaluate=evaluate)
    if json:
        print_json(summary.to_dict())
        return
    success(
        f"{summary.total:,} customers assigned in {summary.campaign} "
        f"({sum(summary.added.values()):,} new)"
    )
    table = Table("arm", "customers", "new")
    for arm, n in summary.counts.items():
        table.add_row(arm, f"{n:,}", f"{summary.added.get(arm, 0):,}")
    console.print(table)


@app.command("import-assignments")
def import_assignments(
    name: NameArgument,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="CSV or Parquet with `arm` and customer_id, record_id, email, phone, user_id "
            "or identifier (optional column assigned_at).",
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="DATETIME",
            help="When the customers were assigned, for rows without assigned_at (default: now).",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Import assignments randomised elsewhere (an email tool's own hold-out).

    Example: tandem campaign import-assignments spring-winback holdout.csv --at 2026-03-01
    """
    when = _moment(at)
    with open_workspace(workspace) as ws, progress("importing", quiet=json):
        summary = ws.campaigns.import_assignments(name, file, at=when)
    if json:
        print_json(summary.to_dict())
        return
    success(
        f"{summary.rows:,} rows: {summary.accepted:,} accepted ({summary.written:,} new "
        f"assignments), {summary.rejected:,} rejected; customers by {summary.id_column}"
    )
    for r in summary.rejections[:20]:
        err_console.print(f"  row {r.row} ({r.value}): {r.reason}", markup=False)
    if summary.rejected > 20:
        err_console.print(f"  ... and {summary.rejected - 20:,} more (--json lists them all)")


@app.command()
def exposures(
    name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False
) -> None:
    """Record the campaign's exposures from its exposure events (replaces earlier ones).

    Example: tandem campaign exposures spring-winback
    """
    with open_workspace(workspace) as ws:
        counts = ws.campaigns.record_exposures(name)
        per_arm = ws.campaigns.exposure_counts(name)
    if json:
        print_json({"campaign": name, "exposures": counts, "customers_by_arm": per_arm})
        return
    success(
        f"recorded {sum(counts.values()):,} exposures: "
        + ", ".join(f"{k} {n:,}" for k, n in counts.items())
    )
    if per_arm:
        kinds = list(counts)
        table = Table("arm", *kinds)
        for arm, by_kind in per_arm.items():
            table.add_row(arm, *(f"{by_kind.get(k, 0):,}" for k in kinds))
        console.print(table)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = parse_time(text)
    if moment is None:
        raise InvalidValue(
            f"`{text}` is not a date and time",
            field="at",
            detail="write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
        )
    return moment


def _parse_edges(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InvalidValue(
            f"`{text}` is not a list of numbers", field="edges", detail="e.g. --edges 0,100,500"
        ) from None


@app.command()
def results(
    name: NameArgument,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="TRAIT", help="Break the lift down by a profile trait."),
    ] = None,
    bins: Annotated[
        int, typer.Option("--bins", help="Quantile buckets of a numeric --by trait.")
    ] = 4,
    edges: Annotated[
        str | None,
        typer.Option("--edges", metavar="N,N,...", help="Bucket edges of a numeric --by trait."),
    ] = None,
    min_bucket: Annotated[
        int,
        typer.Option(
            "--min-bucket", help="Values of a text --by trait with fewer customers are merged."
        ),
    ] = 30,
    sequential: Annotated[
        bool,
        typer.Option("--sequential", help="Always-valid intervals (safe to look every day)."),
    ] = False,
    exposed_only: Annotated[
        bool,
        typer.Option(
            "--exposed-only", help="Only customers with an exposure (default: intention to treat)."
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Lift of every treatment arm against control, per metric, with the SRM check.

    Example: tandem campaign results spring-winback --by rfm --sequential
    """
    options: dict[str, Any] = {}
    if by is not None:
        options = {"bins": bins, "edges": _parse_edges(edges), "min_bucket": min_bucket}
    with open_workspace(workspace) as ws, progress("computing results", quiet=json):
        result = ws.campaigns.results(
            name, by=by, sequential=sequential, exposed_only=exposed_only, **options
        )
    if json:
        print_json(result.to_dict())
        return
    data = result.to_dict()
    console.print(
        f"[bold]{result.campaign}[/bold]  {data['analysis']}; control {result.control}; "
        + ", ".join(f"{arm} {n:,}" for arm, n in result.assigned.items())
    )
    srm = result.srm
    if srm.mismatch:
        console.print(
            f"[bold red]sample ratio mismatch[/bold red] (p = {srm.p_value:.2g}): the split does "
            "not match the shares; do not trust the lifts until the cause is found"
        )
    else:
        console.print(f"  split matches the shares (SRM p = {srm.p_value:.3g})")
    _print_metrics(result.metrics, sequential=sequential)
    for bucket in result.buckets:
        flag = "  [yellow](small)[/yellow]" if bucket.small else ""
        trait = result.by.trait if result.by else ""
        console.print(f"\n[bold]{trait} = {bucket.bucket}[/bold]  n = {bucket.n:,}{flag}")
        _print_metrics(bucket.metrics, sequential=sequential)


def _print_metrics(metrics: list[Any], *, sequential: bool) -> None:
    from tandem.reporting.dashboard import confidence_label

    alphas = {c.alpha for x in metrics for c in x.comparisons.values()}
    level = confidence_label(alphas.pop()) if len(alphas) == 1 else "level"
    table = Table(
        "metric",
        "arm",
        "n",
        "mean",
        "control",
        "abs lift",
        "rel lift",
        f"{level} CI (rel)",
        "p (rel)",
        "CUPED rel",
        "P(beat)",
    )
    for x in metrics:
        for arm, c in x.comparisons.items():
            rel = c.sequential_relative if sequential and c.sequential_relative else c.relative
            cuped = c.cuped_relative
            table.add_row(
                x.metric,
                arm,
                f"{c.treatment_n:,}",
                _num(c.treatment_mean),
                _num(c.control_mean),
                _num(c.absolute.estimate),
                _pct(rel.estimate),
                f"{_pct(rel.ci_low)} to {_pct(rel.ci_high)}",
                "-" if rel.p_value is None else f"{rel.p_value:.3g}",
                "-" if cuped is None else _pct(cuped.estimate),
                f"{c.chance_to_beat_control:.0%}",
            )
        for note in x.notes:
            table.add_row(x.metric, "", "", "", "", "", "", note, "", "", "")
    console.print(table)


from tandem.cli import campaign_analysis  # noqa: E402  (uplift, export-lift)

campaign_analysis.register(app)
