"""`tandem network show`: the couples network between functions, its measures and findings."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    open_workspace,
    print_finding,
    print_json,
)
from tandem.collaboration.network import EVIDENCE_KINDS, POOR_RATING, NetworkReport

app = typer.Typer(
    help="The couples network: which functions work together on digital, and findings.",
    no_args_is_help=True,
)


def _matrix(report: NetworkReport, kind: str | None) -> Table:
    keys = [f.key for f in report.functions]
    title = (
        "Combined (each kind scaled to its strongest pair, then added)"
        if kind is None
        else f"{EVIDENCE_KINDS[kind].label} ({EVIDENCE_KINDS[kind].unit})"
    )
    table = Table(title=title)
    table.add_column("", no_wrap=True)
    for key in keys:
        table.add_column(key, justify="right")
    for a in keys:
        cells: list[str | Text] = [a]
        for b in keys:
            w = report.weight(a, b, kind)
            cells.append(Text("—" if a == b else "·", style="dim") if w <= 0 else f"{w:.3g}")
        table.add_row(*cells)
    return table


def _measures(report: NetworkReport) -> Table:
    table = Table("function", "kind", "degree", "weighted degree", "betweenness")
    for m in report.functions:
        table.add_row(
            m.key, m.kind, str(m.degree), f"{m.weighted_degree:.2f}", f"{m.betweenness:.3f}"
        )
    return table


@app.command()
def show(
    evidence: Annotated[
        list[str] | None,
        typer.Option(
            "--evidence",
            "-e",
            help=f"Kind of evidence: {', '.join(EVIDENCE_KINDS)} or all (repeatable).",
        ),
    ] = None,
    survey: Annotated[
        str | None,
        typer.Option("--survey", help="Survey whose answers count (default: all surveys)."),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option("--threshold", help="Agreement (%) below which a side rates a couple poorly."),
    ] = POOR_RATING,
    versus_benchmark: Annotated[
        bool,
        typer.Option(
            "--versus-benchmark",
            help="A side rates a couple poorly below the Forrester figure for the question "
            "(where there is one) instead of --threshold.",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Show the function x function matrix, network measures and findings with their reasons.

    Example: tandem network show --evidence responsibilities --json
    """
    with open_workspace(workspace) as ws:
        report = ws.network.show(
            evidence, survey=survey, threshold=threshold, versus_benchmark=versus_benchmark
        )
    if json:
        print_json(report.to_dict())
        return
    width = max(console.width, 14 + 10 * len(report.functions))
    if len(report.evidence) > 1:
        for kind in report.evidence:
            console.print(_matrix(report, kind), width=width)
    console.print(_matrix(report, None), width=width)
    console.print(_measures(report))
    for i, comp in enumerate(report.components, 1):
        console.print(f"component {i}: {', '.join(comp)}")
    if not report.hubs:
        console.print("no hub: the company has no digital team / CDO function")
    others = len(report.functions) - 1
    for m in report.functions:
        if m.key in report.hubs:
            console.print(
                f"hub {m.key}: works with {m.degree} of {others} functions, "
                f"betweenness {m.betweenness:.3f}"
            )
    for finding in report.findings:
        print_finding(finding)
    n = len(report.findings)
    console.print(f"\n{n} finding{'s' if n != 1 else ''}")
