"""`tandem survey ...`: anonymous pulse surveys (templates, invitations, import, results)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from tandem.collaboration.anonymity import DEFAULT_MIN_GROUP
from tandem.collaboration.surveys import (
    Cell,
    QuestionResult,
    SurveyInfo,
    SurveyResults,
    Surveys,
    invitation_link,
)
from tandem.errors import InvalidValue

app = typer.Typer(
    help="Anonymous pulse surveys: create, invite, import answers, results beside Forrester.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="Survey name, e.g. pulse-2026.")]


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


@app.command()
def templates(json: JsonOption = False) -> None:
    """List the built-in survey templates and their questions.

    Example: tandem survey templates --json
    """
    data = Surveys.templates()
    if json:
        print_json(data)
        return
    for template in data:
        console.print(f"[bold]{template['key']}[/bold]: {template['title']}")
        for q in template["questions"]:
            bench = f"  (Forrester: {q['benchmark']})" if q["benchmark"] else ""
            console.print(f"  {q['key']:<18} {q['kind']:<16} {q['text']}{bench}")


@app.command()
def create(
    name: NameArgument,
    template: Annotated[
        str,
        typer.Option("--template", "-t", help="Built-in template key or a template YAML file."),
    ] = "digital-pulse",
    title: Annotated[str | None, typer.Option(help="Title (default: the template's).")] = None,
    min_group: Annotated[
        int,
        typer.Option("--min-group", help="Smallest group shown in results (at least 3).", min=1),
    ] = DEFAULT_MIN_GROUP,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Create an open survey from a template.

    Example: tandem survey create pulse-2026 --template digital-pulse --min-group 5
    """
    with open_workspace(workspace) as ws:
        info = ws.surveys.create(name, template, title=title, min_group=min_group)
    if json:
        print_json(info.to_dict())
        return
    success(
        f"created survey {info.name} ({len(info.questions)} questions, groups under "
        f"{info.min_group} respondents hidden)"
    )


@app.command("list")
def list_(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """List the surveys with their status and number of respondents.

    Example: tandem survey list
    """
    with open_workspace(workspace) as ws:
        surveys = ws.surveys.all()
    if json:
        print_json([s.to_dict() for s in surveys])
        return
    table = Table(title="Surveys")
    for col in ("name", "title", "template", "status", "respondents", "invitations used"):
        table.add_column(col)
    for s in surveys:
        table.add_row(
            s.name,
            s.title,
            s.template,
            s.status,
            str(s.respondents),
            f"{s.invitations_used}/{s.invitations}",
        )
    console.print(table)


def _print_info(info: SurveyInfo) -> None:
    console.print(f"[bold]{info.title}[/bold] ({info.name}, template {info.template})")
    closed = f", closed {info.closed}" if info.closed else ""
    console.print(f"  {info.status}, created {info.created}{closed}; min group {info.min_group}")
    console.print(
        f"  {info.respondents} respondents; invitations used {info.invitations_used} of "
        f"{info.invitations}"
    )
    if info.respondents_by_function:
        parts = [
            f"{fn} {n if n is not None else 'hidden'}"
            for fn, n in info.respondents_by_function.items()
        ]
        console.print(f"  by function: {', '.join(parts)}")
    for q in info.questions:
        console.print(f"  {q['key']:<18} {q['kind']:<16} {q['text']}")


@app.command()
def show(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Show a survey: questions, respondents per function (small groups hidden), invitations.

    Example: tandem survey show pulse-2026
    """
    with open_workspace(workspace) as ws:
        info = ws.surveys.show(name)
    if json:
        print_json(info.to_dict())
        return
    _print_info(info)


@app.command()
def close(name: NameArgument, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Close a survey: no more answers, unused invitations stop working.

    Example: tandem survey close pulse-2026
    """
    with open_workspace(workspace) as ws:
        info = ws.surveys.close(name)
    if json:
        print_json(info.to_dict())
        return
    success(f"closed survey {name} with {info.respondents} respondents")


@app.command()
def invite(
    name: NameArgument,
    count: Annotated[int, typer.Option("--count", "-n", help="Number of invitations.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the links to this file.", dir_okay=False),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Print links {base-url}/s/{token} (the server's form) instead of tokens.",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Issue single-use invitations (only their hashes are stored: keep the output safe).

    Example: tandem survey invite pulse-2026 -n 120 --base-url https://t.example -o links.txt
    """
    # Open the output before issuing: the tokens exist only here (the database keeps hashes),
    # so an unwritable --out must refuse before any invitation is stored.
    existed = out is not None and out.exists()
    try:
        handle = out.open("w", encoding="utf-8") if out is not None else None
    except OSError as exc:
        raise InvalidValue(f"cannot write {out}: {exc.strerror}", field="out") from None
    try:
        with open_workspace(workspace) as ws:
            tokens = ws.surveys.invite(name, count)
    except BaseException:
        if handle is not None:
            handle.close()
            if not existed and out is not None:
                out.unlink(missing_ok=True)
        raise
    links = [invitation_link(base_url, t) for t in tokens] if base_url else tokens
    if handle is not None:
        with handle:
            handle.write("\n".join(links) + "\n")
    if json:
        print_json({"survey": name, "count": len(links), "links": links if out is None else []})
        return
    if out is None:
        for link in links:
            typer.echo(link)
    else:
        success(f"wrote {len(links)} single-use invitations to {out}")


@app.command("import")
def import_(
    name: NameArgument,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="CSV file.", dir_okay=False)],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows and report each bad one."),
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Import responses from CSV (columns: function, seniority, one per question key).

    Example: tandem survey import pulse-2026 answers.csv --skip-invalid
    """
    with open_workspace(workspace) as ws:
        summary = ws.surveys.import_csv(name, path, skip_invalid=skip_invalid)
    if json:
        print_json(summary.to_dict())
        return
    success(
        f"imported {summary.accepted} of {summary.rows} rows into {name}"
        + (f"; skipped {len(summary.rejected)}:" if summary.rejected else "")
    )
    for p in summary.rejected:
        console.print(f"  line {p.line}: {p.message}", markup=False)


def _figure(cell: Cell) -> str:
    if cell.suppressed:
        return "hidden"
    if cell.n == 0:
        return "no answers"
    if cell.agree is not None:
        a = cell.agree
        return f"{_pct(a.share)} ({_pct(a.low)}-{_pct(a.high)}) n={cell.n}"
    options = sorted(cell.options or [], key=lambda o: -o["count"])
    top = [f"{o['key']} {_pct(o['share'])}" for o in options if o["count"]][:4]
    return f"{', '.join(top) or 'none chosen'} n={cell.n}"


def _benchmark_text(q: QuestionResult) -> str:
    if not q.benchmark:
        return ""
    if "percent" in q.benchmark:
        verdict = {"above": "above", "below": "below", "level": "not clearly different"}
        return f"{q.benchmark['percent']}% ({verdict.get(q.versus_benchmark or '', '-')})"
    by_kind = q.benchmark["by_kind"]
    return f"CEO {by_kind['executive']}% / CMO {by_kind['marketing']}% / CIO {by_kind['it']}%"


def _print_results(results: SurveyResults) -> None:
    console.print(
        f"[bold]{results.title}[/bold] ({results.survey}, {results.status}): "
        f"{results.respondents} respondents; groups under {results.min_group} hidden"
    )
    table = Table(title="Share agreeing (4-5 of 5) with Wilson 95% interval; options by share")
    table.add_column("question", no_wrap=True)
    table.add_column("company")
    table.add_column("Forrester 2014")
    groups: list[Any] = []
    for q in results.questions:
        for cell in q.groups:
            if cell.group not in groups:
                groups.append(cell.group)
    for g in groups:
        table.add_column(str(g))
    for q in results.questions:
        cells = {c.group: c for c in q.groups}
        row = [q.key, _figure(q.overall), _benchmark_text(q)]
        row += [_figure(cells[g]) if g in cells else "" for g in groups]
        table.add_row(*row)
    console.print(table, width=max(console.width, 60 + 28 * len(groups)))
    vision = [q for q in results.questions if q.benchmark and "by_kind" in q.benchmark]
    for q in vision:
        if not q.overall.options:
            continue
        parts = [
            f"{o['label']} {_pct(o['share'])} (Forrester {o['benchmark_role']} "
            f"{o['benchmark_percent']}%)"
            for o in q.overall.options
            if o.get("benchmark_percent") is not None
        ]
        console.print(f"{q.key}: " + "; ".join(parts))


@app.command()
def results(
    name: NameArgument,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Break down by `function` or `seniority`."),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Results per question beside the Forrester figures; small groups hidden.

    Example: tandem survey results pulse-2026 --by function --json
    """
    with open_workspace(workspace) as ws:
        data = ws.surveys.results(name, by=by)
    if json:
        print_json(data.to_dict())
        return
    _print_results(data)
