"""`tandem campaign uplift` and `tandem campaign export-lift`: who a campaign moves most, and its
lifts for a media-mix model (registered on the campaign group by `register`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tandem.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    open_workspace,
    print_json,
    progress,
    success,
)
from tandem.errors import InvalidValue

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The campaign's name, e.g. spring-winback.")
]


def uplift(
    name: NameArgument,
    metric: Annotated[str, typer.Option("--metric", "-m", help="The metric to model.")],
    arm: Annotated[
        str | None,
        typer.Option(help="Treatment arm against the control (needed with several)."),
    ] = None,
    learner: Annotated[
        str, typer.Option(help="x (X-learner, Künzel et al.) or t (two models).")
    ] = "x",
    trait: Annotated[
        list[str] | None,
        typer.Option(
            "--trait",
            help="A profile column or golden trait to add as a feature (repeatable); text "
            "traits are one-hot encoded, numbers used as they are. Behaviour before each "
            "customer's assignment is always a feature (unless --only-traits).",
        ),
    ] = None,
    only_traits: Annotated[
        bool,
        typer.Option(
            "--only-traits",
            help="Use only the --trait features, not the behaviour before assignment.",
        ),
    ] = False,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-fitting folds.")] = 5,
    max_rows: Annotated[
        int,
        typer.Option(
            min=20, help="At most this many customers (a seeded sample above it) come to Python."
        ),
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed (sample, folds, models).")] = 0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write each customer's score (customer_id, arm, score) as CSV."),
    ] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Fit an uplift model on a campaign's arms and rank customers by expected effect (Qini).

    Example: tandem campaign uplift spring-winback --metric purchased --trait loyaltyTier
    """
    from tandem.campaigns.uplift import campaign_uplift

    if out is not None:
        _check_writable(out)
    with open_workspace(workspace) as ws, progress("fitting the uplift model", quiet=json):
        result = campaign_uplift(
            ws,
            name,
            metric,
            arm=arm,
            learner=learner,
            behaviour=not only_traits,
            traits=trait or [],
            max_rows=max_rows,
            folds=folds,
            seed=seed,
        )
    written = result.write_scores(out) if out is not None else None
    if json:
        data = result.to_dict()
        if out is not None:
            data["scores_file"] = str(out)
        print_json(data)
        return
    sample = (
        f" (a seeded sample of {result.customers:,} of {result.total:,})" if result.sampled else ""
    )
    console.print(
        f"[bold]{result.campaign}[/bold] {result.metric}: {result.arm} against {result.control}, "
        f"{result.customers:,} customers{sample}, learner {result.learner}, "
        f"{result.folds}-fold cross-fitted scores"
    )
    console.print(
        f"Qini coefficient {_fmt(result.qini_coefficient)}   AUUC {_fmt(result.auuc)}   "
        "(1 = perfect ranking, 0 = no better than random)"
    )
    table = Table("decile", "customers", "mean score", "treated", "control", "observed uplift")
    for d in result.deciles:
        table.add_row(
            str(d["decile"]),
            f"{d['customers']:,}",
            f"{d['mean_score']:+.4f}",
            f"{d['treated']:,}",
            f"{d['control']:,}",
            "-" if d["observed_uplift"] is None else f"{d['observed_uplift']:+.4f}",
        )
    console.print(table)
    console.print(f"features: {', '.join(result.features)}")
    if written is not None:
        success(f"wrote {written:,} scores to {out}")


def _fmt(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.3f}"


def _check_writable(path: Path) -> None:
    if path.exists() and path.is_dir():
        raise InvalidValue(f"{path} is a folder; give a file name", field="out")
    if not path.parent.exists():
        raise InvalidValue(f"folder {path.parent} does not exist", field="out")


def export_lift(
    name: NameArgument,
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    metric: Annotated[
        str | None, typer.Option("--metric", "-m", help="Only this metric (default: all).")
    ] = None,
    arm: Annotated[str | None, typer.Option(help="Only this treatment arm (default: all).")] = None,
    spend: Annotated[
        list[str] | None,
        typer.Option(
            "--spend",
            help="An arm's spend over the test, ARM=AMOUNT (repeatable; arms not named spent 0).",
        ),
    ] = None,
    cost_per_exposure: Annotated[
        float | None,
        typer.Option(help="Spend per exposed customer (times each arm's exposures)."),
    ] = None,
    exposure: Annotated[
        str, typer.Option(help="The exposure kind counted (without --spend).")
    ] = "sent",
    channel: Annotated[
        str | None,
        typer.Option(
            help="The channel column name in your media-mix model (default: the "
            "campaign's channel)."
        ),
    ] = None,
    cuped: Annotated[
        bool,
        typer.Option("--cuped/--no-cuped", help="Use the CUPED-adjusted lift when there is one."),
    ] = True,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Export a campaign's lifts as PyMC-Marketing lift tests (channel, x, delta_x, delta_y, sigma).

    Example: tandem campaign export-lift spring-winback --out lift.csv --spend offer=5000
    """
    from tandem.campaigns.lift_export import campaign_lift_tests, parse_spend, write_lift_tests

    _check_writable(out)
    with open_workspace(workspace) as ws:
        tests = campaign_lift_tests(
            ws,
            name,
            metric=metric,
            arm=arm,
            channel=channel,
            spend=parse_spend(spend, separator="=", option="--spend", field="spend"),
            cost_per_exposure=cost_per_exposure,
            exposure_kind=exposure,
            cuped=cuped,
        )
    write_lift_tests(tests, out)
    if json:
        print_json({"file": str(out), "rows": [t.to_dict() for t in tests]})
        return
    table = Table("metric", "arm", "channel", "x", "delta_x", "delta_y", "sigma", "unit", "cuped")
    for t in tests:
        table.add_row(
            t.metric,
            t.arm,
            t.channel,
            f"{t.x:.6g}",
            f"{t.delta_x:.6g}",
            f"{t.delta_y:.6g}",
            f"{t.sigma:.6g}",
            t.unit,
            "yes" if t.cuped else "no",
        )
    console.print(table)
    success(f"wrote {len(tests)} lift test{'s' if len(tests) != 1 else ''} to {out}")


def register(app: typer.Typer) -> None:
    """Add `uplift` and `export-lift` to the campaign group."""
    app.command()(uplift)
    app.command("export-lift")(export_lift)
