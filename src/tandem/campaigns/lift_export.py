"""A campaign's lifts as PyMC-Marketing lift tests (`MMM.add_lift_test_measurements`).

A media-mix model learns each channel's saturation curve from spend over time; a randomised
lift test pins the curve down: "moving the channel from `x` to `x + delta_x` moved the target
by `delta_y`, give or take `sigma`". PyMC-Marketing reads that as a table with the columns
`channel, x, delta_x, delta_y, sigma`. One row per treatment arm and metric:

- `x`: the channel's spend (or exposures) at the control arm's level, for as many customers as
  the treatment arm has: control spend x n_treated / n_control (0 for a pure hold-out);
- `delta_x`: the treatment arm's spend (or exposures) minus `x`;
- `delta_y`: the absolute lift (treatment mean - control mean; CUPED-adjusted when the metric
  has a covariate) x n_treated: the outcome the campaign added in the treatment arm, in the
  metric's own unit (conversions, orders, revenue) over the metric's window;
- `sigma`: the absolute lift's standard error x n_treated.

Spend is not part of a campaign's definition: give it per arm (`spend={"offer": 5000}`, arms
not named spent nothing) or as a cost per exposure (times the customers of each arm with an
exposure of `exposure_kind`). Without either the x axis is exposures (customers reached).

PyMC-Marketing refuses a lift whose sign is not that of `delta_x` (its `assert_monotonic`) and a
`sigma` of 0 (the Gamma likelihood); such rows are refused here with the reason.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tandem.errors import InvalidValue

if TYPE_CHECKING:
    from tandem.campaigns.stats import Comparison
    from tandem.workspace import Workspace

COLUMNS = ("channel", "x", "delta_x", "delta_y", "sigma")


@dataclass(frozen=True)
class LiftTest:
    """One lift-test row and where it came from."""

    channel: str
    x: float
    delta_x: float
    delta_y: float
    sigma: float
    campaign: str
    arm: str
    metric: str
    unit: str  # "spend" or "exposures": what x and delta_x count
    treated: int
    control: int
    lift: float  # absolute lift per customer
    lift_std_error: float
    cuped: bool

    def row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_spend(
    values: list[str] | None, *, separator: str, option: str, field: str
) -> dict[str, float] | None:
    """Spend per arm from `ARM<separator>AMOUNT` texts (the CLI's `--spend offer=5000`, the
    API's `spend=offer:5000`); None when none is given. `option` names the input in errors."""
    if not values:
        return None
    out: dict[str, float] = {}
    for text in values:
        arm, sep, amount = text.partition(separator)
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if not sep or not arm.strip() or not math.isfinite(value) or value < 0:
            raise InvalidValue(
                f"{option} {text!r}: write ARM{separator}AMOUNT with an amount >= 0, "
                f"e.g. {option} offer{separator}5000",
                field=field,
            )
        out[arm.strip()] = value
    return out


def lift_test(
    comparison: Comparison,
    *,
    channel: str,
    campaign: str,
    arm: str,
    metric: str,
    treated_x: float,
    control_x: float,
    unit: str,
    cuped: bool = True,
) -> LiftTest:
    """The lift-test row of one comparison; `treated_x` and `control_x` are the spend (or
    exposures) of the whole treatment and control arms."""
    n_t, n_c = comparison.treatment_n, comparison.control_n
    where = f"{campaign}, arm {arm}, metric {metric}"
    if n_t < 1 or n_c < 1:
        raise InvalidValue(f"{where}: an arm has no customers, so there is no lift", field="arm")
    for value, name in ((treated_x, "treatment"), (control_x, "control")):
        if not math.isfinite(value) or value < 0:
            raise InvalidValue(
                f"{where}: the {name} arm's {unit} must be a number >= 0, not {value}",
                field="spend",
            )
    estimate = comparison.absolute
    used_cuped = False
    if cuped and comparison.cuped_absolute is not None and comparison.cuped_absolute.defined:
        estimate, used_cuped = comparison.cuped_absolute, True
    if not estimate.defined:
        raise InvalidValue(f"{where}: no lift to export: {estimate.reason}", field="metric")
    x = control_x * n_t / n_c
    delta_x = treated_x - x
    delta_y = estimate.estimate * n_t
    sigma = estimate.std_error * n_t
    if sigma <= 0:
        raise InvalidValue(
            f"{where}: the lift has no spread (standard error 0); PyMC-Marketing needs sigma > 0",
            field="metric",
        )
    if delta_x * delta_y < 0 or (delta_x == 0 and delta_y != 0):
        raise InvalidValue(
            f"{where}: the lift ({delta_y:+.6g}) and the change in {unit} ({delta_x:+.6g}) have "
            "opposite signs or no change in "
            f"{unit}; PyMC-Marketing's lift tests assume more {unit} never lowers the outcome",
            field="metric",
            detail="export another metric or arm, or give the arms' spend with --spend",
        )
    return LiftTest(
        channel=channel,
        x=x,
        delta_x=delta_x,
        delta_y=delta_y,
        sigma=sigma,
        campaign=campaign,
        arm=arm,
        metric=metric,
        unit=unit,
        treated=n_t,
        control=n_c,
        lift=estimate.estimate,
        lift_std_error=estimate.std_error,
        cuped=used_cuped,
    )


def campaign_lift_tests(
    ws: Workspace,
    campaign: str,
    *,
    metric: str | None = None,
    arm: str | None = None,
    channel: str | None = None,
    spend: Mapping[str, float] | None = None,
    cost_per_exposure: float | None = None,
    exposure_kind: str = "sent",
    cuped: bool = True,
) -> list[LiftTest]:
    """The lift tests of a campaign: every treatment arm (or `arm`) and every metric (or
    `metric`), in the definition's order."""
    if spend is not None and cost_per_exposure is not None:
        raise InvalidValue(
            "give the spend per arm or a cost per exposure, not both", field="cost_per_exposure"
        )
    if cost_per_exposure is not None and (
        not math.isfinite(cost_per_exposure) or cost_per_exposure < 0
    ):
        raise InvalidValue("the cost per exposure must be a number >= 0", field="cost_per_exposure")
    d = ws.campaigns.definition(campaign)
    arms = [a.name for a in d.arms]
    if spend is not None:
        unknown = sorted(set(spend) - set(arms))
        if unknown:
            raise InvalidValue(
                f"campaign {d.name} has no arm {', '.join(unknown)}; its arms: {', '.join(arms)}",
                field="spend",
            )
    treatments = [a.name for a in d.treatments]
    if arm is not None and arm not in treatments:
        raise InvalidValue(
            f"campaign {d.name} has no treatment arm {arm!r}; its treatment arms: "
            f"{', '.join(treatments)}",
            field="arm",
        )
    metrics = [m.name for m in d.metrics]
    if metric is not None and metric not in metrics:
        raise InvalidValue(
            f"campaign {d.name} has no metric {metric!r}; its metrics: {', '.join(metrics)}",
            field="metric",
        )
    results = ws.campaigns.results(d.name)
    if spend is not None:
        unit = "spend"
        amount = {a: float(spend.get(a, 0.0)) for a in arms}
    else:
        kinds = {e.kind for e in d.exposures}
        if exposure_kind not in kinds:
            raise InvalidValue(
                f"campaign {d.name} records no exposures of kind {exposure_kind!r}"
                + (f"; its kinds: {', '.join(sorted(kinds))}" if kinds else ""),
                field="exposure_kind",
                detail="give the arms' spend with --spend ARM=AMOUNT instead",
            )
        reached = {a: results.exposures.get(a, {}).get(exposure_kind, 0) for a in arms}
        if not any(reached.values()):
            raise InvalidValue(
                f"campaign {d.name} has no recorded {exposure_kind} exposures",
                field="exposure_kind",
                detail=f"run `tandem campaign exposures {d.name}` first, or give --spend",
            )
        if cost_per_exposure is not None:
            unit = "spend"
            amount = {a: reached[a] * cost_per_exposure for a in arms}
        else:
            unit = "exposures"
            amount = {a: float(reached[a]) for a in arms}
    out = []
    for m in results.metrics:
        if metric is not None and m.metric != metric:
            continue
        for name, comparison in m.comparisons.items():
            if arm is not None and name != arm:
                continue
            out.append(
                lift_test(
                    comparison,
                    channel=channel or d.channel,
                    campaign=d.name,
                    arm=name,
                    metric=m.metric,
                    treated_x=amount[name],
                    control_x=amount[results.control],
                    unit=unit,
                    cuped=cuped,
                )
            )
    if not out:
        raise InvalidValue(
            f"campaign {d.name} has no comparison to export (an arm with fewer than 2 customers)",
            field="name",
        )
    return out


def write_lift_tests_csv(tests: Sequence[LiftTest], stream: TextIO) -> None:
    """Write the rows as CSV text to `stream`, with exactly PyMC-Marketing's columns (read it
    with `pandas.read_csv` and pass it to `add_lift_test_measurements`): a header, one line per
    row, each line ending in a bare LF (no CR), floats written exactly (their repr). The API's
    `format=csv` and `write_lift_tests` (the CLI's file) both write through here."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for t in tests:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in t.row().items()})


def write_lift_tests(tests: Sequence[LiftTest], path: Path) -> None:
    """Write the rows as a CSV file at `path` (as `write_lift_tests_csv` writes them)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        write_lift_tests_csv(tests, f)
