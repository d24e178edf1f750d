"""PyMC-Marketing lift tests from a campaign's comparisons (tandem.campaigns.lift_export)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tandem.campaigns.lift_export import (
    COLUMNS,
    lift_test,
    parse_spend,
    write_lift_tests,
    write_lift_tests_csv,
)
from tandem.campaigns.stats import ArmSummary, compare
from tandem.errors import InvalidValue


def proportion(n: int, conversions: int) -> ArmSummary:
    return ArmSummary(n=n, sum=float(conversions), sum_sq=float(conversions))


def test_a_hold_out_with_spend_on_the_treatment_arm() -> None:
    # control 1000 customers, 50 conversions; treatment 3000, 240 conversions
    c = compare(proportion(1000, 50), proportion(3000, 240), kind="proportion")
    t = lift_test(
        c,
        channel="email",
        campaign="spring",
        arm="offer",
        metric="purchased",
        treated_x=6000.0,
        control_x=0.0,
        unit="spend",
    )
    assert t.x == 0.0
    assert t.delta_x == 6000.0
    # lift 0.08 - 0.05 = 0.03 per customer, x 3000 treated = 90 extra conversions
    assert t.delta_y == pytest.approx(90.0)
    se = ((0.05 * 0.95) / 1000 + (0.08 * 0.92) / 3000) ** 0.5
    assert t.sigma == pytest.approx(se * 3000)
    assert t.lift_std_error == pytest.approx(se)
    assert (t.treated, t.control, t.cuped) == (3000, 1000, False)


def test_control_spend_is_scaled_to_the_treatment_arm() -> None:
    c = compare(proportion(500, 25), proportion(1500, 120), kind="proportion")
    t = lift_test(
        c,
        channel="email",
        campaign="c",
        arm="more",
        metric="m",
        treated_x=4500.0,
        control_x=500.0,
        unit="spend",
    )
    # control spent 500 on 500 customers: 1500 at the control's level is 1500
    assert t.x == pytest.approx(1500.0)
    assert t.delta_x == pytest.approx(3000.0)


def test_cuped_lift_is_used_when_there_is_one() -> None:
    control = ArmSummary(
        n=400, sum=400.0, sum_sq=1400.0, cov_sum=380.0, cov_sum_sq=1300.0, cross=1250.0
    )
    treated = ArmSummary(
        n=400, sum=480.0, sum_sq=1700.0, cov_sum=390.0, cov_sum_sq=1320.0, cross=1380.0
    )
    c = compare(control, treated, kind="mean")
    assert c.cuped_absolute is not None
    t = lift_test(
        c,
        channel="email",
        campaign="c",
        arm="a",
        metric="m",
        treated_x=400.0,
        control_x=0.0,
        unit="exposures",
    )
    assert t.cuped
    assert t.delta_y == pytest.approx(c.cuped_absolute.estimate * 400)
    assert t.sigma == pytest.approx(c.cuped_absolute.std_error * 400)
    plain = lift_test(
        c,
        channel="email",
        campaign="c",
        arm="a",
        metric="m",
        treated_x=400.0,
        control_x=0.0,
        unit="exposures",
        cuped=False,
    )
    assert not plain.cuped
    assert plain.delta_y == pytest.approx(80.0)
    assert plain.sigma > t.sigma  # the covariate explains variance


def test_lifts_pymc_marketing_would_refuse_are_refused() -> None:
    negative = compare(proportion(1000, 80), proportion(1000, 50), kind="proportion")
    with pytest.raises(InvalidValue, match="opposite signs") as info:
        lift_test(
            negative,
            channel="email",
            campaign="c",
            arm="a",
            metric="purchased",
            treated_x=100.0,
            control_x=0.0,
            unit="spend",
        )
    assert info.value.field == "metric"
    no_spread = compare(proportion(100, 0), proportion(100, 0), kind="proportion")
    with pytest.raises(InvalidValue, match=r"no lift to export|sigma > 0"):
        lift_test(
            no_spread,
            channel="email",
            campaign="c",
            arm="a",
            metric="purchased",
            treated_x=100.0,
            control_x=0.0,
            unit="spend",
        )
    fine = compare(proportion(1000, 50), proportion(1000, 80), kind="proportion")
    with pytest.raises(InvalidValue, match="spend must be a number >= 0"):
        lift_test(
            fine,
            channel="email",
            campaign="c",
            arm="a",
            metric="purchased",
            treated_x=-1.0,
            control_x=0.0,
            unit="spend",
        )


def test_the_csv_has_exactly_pymc_marketings_columns(tmp_path: Path) -> None:
    c = compare(proportion(1000, 50), proportion(1000, 80), kind="proportion")
    t = lift_test(
        c,
        channel="email_spend",
        campaign="c",
        arm="a",
        metric="purchased",
        treated_x=2500.0,
        control_x=0.0,
        unit="spend",
    )
    path = tmp_path / "lift.csv"
    write_lift_tests([t], path)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS == ("channel", "x", "delta_x", "delta_y", "sigma")
    assert rows[0]["channel"] == "email_spend"
    assert float(rows[0]["delta_y"]) == pytest.approx(30.0)
    assert float(rows[0]["sigma"]) == t.sigma  # written exactly (repr of the float)
    # to a text stream (the API's answer), the same text: header and rows, LF line ends
    text = io.StringIO()
    write_lift_tests_csv([t, t], text)
    row = f"email_spend,0.0,2500.0,{t.delta_y!r},{t.sigma!r}\n"
    assert text.getvalue() == "channel,x,delta_x,delta_y,sigma\n" + row + row
    assert path.read_bytes() == ("channel,x,delta_x,delta_y,sigma\n" + row).encode("utf-8")


def test_spend_per_arm_is_parsed_the_same_for_the_cli_and_the_api() -> None:
    cli = parse_spend(
        ["offer=5000", " control = 0"], separator="=", option="--spend", field="spend"
    )
    api = parse_spend(["offer:5000", "control:0"], separator=":", option="spend", field="x")
    assert cli == api == {"offer": 5000.0, "control": 0.0}
    assert parse_spend(None, separator="=", option="--spend", field="spend") is None
    for bad in ("offer", "=5", "offer=-1", "offer=nan", "offer=lots"):
        with pytest.raises(InvalidValue) as caught:
            parse_spend([bad], separator="=", option="--spend", field="spend")
        assert caught.value.message == (
            f"--spend {bad!r}: write ARM=AMOUNT with an amount >= 0, e.g. --spend offer=5000"
        )
        assert caught.value.field == "spend"
