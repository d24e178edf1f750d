"""`tandem ownership ...`: the matrix, import/export, benchmark and findings."""

from __future__ import annotations

from pathlib import Path
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
    success,
)
from tandem.errors import InvalidValue
from tandem.ownership.benchmark import Benchmark
from tandem.ownership.findings import SEVERITY_ORDER
from tandem.ownership.model import OwnershipModel
from tandem.ownership.modelfile import model_from_file
from tandem.ownership.service import Matrix

app = typer.Typer(
    help="Who owns each digital capability: matrix, import/export, benchmark, findings.",
    no_args_is_help=True,
)

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="Analyse this ownership YAML file instead of the workspace (nothing is imported).",
        dir_okay=False,
    ),
]

ROLE_STYLE = {"A": "bold", "R": "", "C": "dim", "I": "dim"}


def _model(workspace: Path | None, file: Path | None) -> OwnershipModel:
    if file is not None:
        return model_from_file(file)
    with open_workspace(workspace) as ws:
        return ws.ownership.model()


def _matrix_table(matrix: Matrix) -> Table:
    table = Table(title="Ownership matrix (R responsible, A accountable, C consulted, I informed)")
    table.add_column("capability", no_wrap=True)
    for fn in matrix.functions:
        table.add_column(fn["key"], justify="center")
    for row in matrix.rows:
        cells: list[str | Text] = [row["name"]]
        for fn in matrix.functions:
            letters = row["roles"].get(fn["key"], "")
            cell = Text()
            for letter in letters:
                cell.append(letter, style=ROLE_STYLE[letter])
            cells.append(cell if letters else Text("·", style="dim"))
        table.add_row(*cells)
    return table


def print_matrix(matrix: Matrix) -> None:
    """Print the matrix at its natural width, so no column is cut on a narrow or piped output."""
    names = [len(r["name"]) for r in matrix.rows] or [10]
    needed = max(names) + 4 + sum(max(len(f["key"]), 2) + 3 for f in matrix.functions)
    console.print(_matrix_table(matrix), width=max(console.width, needed))


@app.command()
def show(
    workspace: WorkspaceOption = None,
    file: FileOption = None,
    json: JsonOption = False,
) -> None:
    """Show the ownership matrix: capabilities x functions with R/A/C/I.

    Example: tandem ownership show --json
    """
    from tandem.ownership.service import Ownership

    model = _model(workspace, file)
    matrix = Ownership.matrix_of(model)
    if json:
        print_json(matrix.to_dict())
        return
    print_matrix(matrix)


@app.command("import")
def import_(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Ownership YAML file.", dir_okay=False)
    ],
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="Add and update only; keep functions, capabilities and bodies the file omits.",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Import an ownership YAML file, all or nothing (errors name file, line and field).

    Example: tandem ownership import ownership.yaml
    """
    with open_workspace(workspace) as ws:
        summary = ws.ownership.import_file(path, merge=merge)
    if json:
        print_json(summary.to_dict())
        return
    counts = (
        (summary.functions, "function", "functions"),
        (summary.people, "person", "people"),
        (summary.capabilities, "capability", "capabilities"),
        (summary.responsibilities, "responsibility", "responsibilities"),
        (summary.governance_bodies, "governance body", "governance bodies"),
    )
    success(
        f"imported {path}: "
        + ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)
    )
    for section, keys in summary.removed.items():
        console.print(f"  removed {section.replace('_', ' ')}: {', '.join(keys)}")


@app.command()
def export(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write to this file instead of standard output.", dir_okay=False
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Export the ownership model as YAML (the format `import` reads).

    Example: tandem ownership export --out ownership.yaml
    """
    with open_workspace(workspace) as ws:
        text = ws.ownership.export()
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidValue(f"cannot write {out}: {exc.strerror}", field="out") from None
    success(f"wrote {out}")


@app.command()
def assign(
    capability: Annotated[
        str, typer.Argument(metavar="CAPABILITY", help="Capability key, e.g. web-design.")
    ],
    function: Annotated[
        str, typer.Argument(metavar="FUNCTION", help="Function key, e.g. marketing.")
    ],
    roles: Annotated[str, typer.Argument(metavar="ROLES", help="RACI letters to add, e.g. RA.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Give a function R, A, C and/or I on a capability (joint accountability is allowed).

    Example: tandem ownership assign web-design it RA
    """
    with open_workspace(workspace) as ws:
        held = ws.ownership.assign(capability, function, roles)
    success(f"{function} now holds {held} on {capability}")


@app.command()
def unassign(
    capability: Annotated[str, typer.Argument(metavar="CAPABILITY", help="Capability key.")],
    function: Annotated[str, typer.Argument(metavar="FUNCTION", help="Function key.")],
    roles: Annotated[
        str | None, typer.Argument(metavar="ROLES", help="RACI letters to remove (default: all).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Take roles from a function on a capability.

    Example: tandem ownership unassign web-design marketing A
    """
    with open_workspace(workspace) as ws:
        left = ws.ownership.unassign(capability, function, roles)
    success(f"{function} now holds {left or 'no role'} on {capability}")


@app.command()
def company(
    name: Annotated[str | None, typer.Option(help="Company name.")] = None,
    industry: Annotated[str | None, typer.Option(help="Industry.")] = None,
    employees: Annotated[int | None, typer.Option(help="Number of employees.")] = None,
    digital_revenue_team: Annotated[
        bool | None,
        typer.Option(
            "--digital-revenue-team/--no-digital-revenue-team",
            help="Whether the company has a digital revenue team.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Show or set the company profile the benchmark uses (size picks the right figure).

    Example: tandem ownership company --employees 4200 --industry Retail
    """
    with open_workspace(workspace) as ws:
        if any(v is not None for v in (name, industry, employees, digital_revenue_team)):
            ws.ownership.set_company(
                name=name,
                industry=industry,
                employees=employees,
                digital_revenue_team=digital_revenue_team,
            )
        info = ws.ownership.model().company
    data = (
        {
            "name": info.name,
            "industry": info.industry,
            "employees": info.employees,
            "digital_revenue_team": info.digital_revenue_team,
        }
        if info
        else {}
    )
    if json:
        print_json(data)
        return
    for key, value in data.items():
        shown = (
            "-"
            if value is None
            else ("yes" if value else "no")
            if isinstance(value, bool)
            else value
        )
        console.print(f"{key.replace('_', ' '):<22}{shown}")


def _pct(value: int | None) -> str:
    return "" if value is None else f"{value}%"


@app.command()
def benchmark(
    workspace: WorkspaceOption = None,
    file: FileOption = None,
    json: JsonOption = False,
) -> None:
    """Set the company's matrix beside the Forrester State of Digital Business 2014 figures.

    Example: tandem ownership benchmark
    """
    from tandem.ownership.benchmark import compare

    result: Benchmark = compare(_model(workspace, file))
    if json:
        print_json(result.to_dict())
        return
    src = result.source
    console.print(
        f"[bold]Benchmark:[/bold] {src['publisher']}, {src['title']} ({src['survey']}), "
        f"as quoted in {src['quoted_in']}"
    )
    survey = result.vision.survey
    console.print(
        f"\n[bold]Digital vision & strategy[/bold]: {result.vision.note}. "
        f"Survey: CEO {survey['executive']}%, CMO {survey['marketing']}%, CIO {survey['it']}%."
    )
    table = Table(title="Responsibility by capability (responsible = R or A)")
    table.add_column("capability", no_wrap=True)
    table.add_column("marketing here", justify="center")
    table.add_column("survey", justify="right")
    table.add_column("IT here", justify="center")
    table.add_column("survey", justify="right")
    table.add_column("compared with the survey")
    for row in result.capabilities:
        mk, it = row.sides["marketing"], row.sides["it"]
        table.add_row(
            row.name,
            mk.roles or "·",
            _pct(mk.survey_percent),
            it.roles or "·",
            _pct(it.survey_percent),
            "; ".join(row.notes),
        )
    console.print(table)
    org = Table(title="The organisation")
    org.add_column("figure")
    org.add_column("survey", justify="right")
    org.add_column("here")
    for fig in result.organisation:
        here = {True: "yes", False: "no", None: "-"}[fig.company]
        org.add_row(fig.label, f"{fig.survey_percent}%", f"{here} ({fig.note})")
    console.print(org)


@app.command()
def findings(
    workspace: WorkspaceOption = None,
    file: FileOption = None,
    severity: Annotated[
        str | None,
        typer.Option(help="Only findings at least this severe: high, medium or low."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Report what is wrong with who owns digital, and why (citing the seed behind each rule).

    Example: tandem ownership findings --severity high
    """
    from tandem.ownership.findings import evaluate

    if severity is not None and severity not in SEVERITY_ORDER:
        raise InvalidValue(
            f"unknown severity `{severity}`", field="severity", detail="use high, medium or low"
        )
    found = evaluate(_model(workspace, file))
    total = len(found)
    if severity is not None:
        found = [f for f in found if SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[severity]]
    if json:
        print_json([f.to_dict() for f in found])
        return
    if not found:
        if severity is not None and total:
            success(f"no findings at severity {severity} or above ({total} less severe)")
        else:
            success("no findings: ownership of digital is shared as the seeds recommend")
        return
    for finding in found:
        print_finding(finding)
    console.print(f"\n{len(found)} finding{'s' if len(found) != 1 else ''}")
