"""Campaign metrics in the engine: each customer's outcome and covariate, and the per-arm sums,
checked against numbers worked out by hand (tests/campaigns/campaign_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem import Workspace
from tandem.campaigns.stats import ArmSummary
from tandem.errors import InvalidValue, NotFound
from tests.campaigns import campaign_data as cd

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]


@pytest.fixture
def spring(workspace: Workspace, tmp_path: Path) -> Workspace:
    cd.build(workspace, tmp_path)
    metrics = [
        *cd.definition()["metrics"],
        {
            "name": "spend",
            "kind": "sum",
            "event": "Order Completed",
            "property": "revenue",
            "covariate": {"trait": "monetary"},
        },
    ]
    workspace.campaigns.create(cd.definition(metrics=metrics))
    cd.import_known_arms(workspace, tmp_path)
    return workspace


def _values(ws: Workspace, metric: str) -> dict[str, tuple[str, float, float | None]]:
    rows = ws.lake.con.to_pyarrow(ws.campaigns.outcomes("spring", metric)).to_pylist()
    return {r["customer_id"]: (r["arm"], r["value"], r["covariate"]) for r in rows}


def test_outcomes_per_customer_within_the_window(spring: Workspace) -> None:
    assert _values(spring, "purchased") == {
        "cus_1": ("control", 1.0, None),
        "cus_2": ("control", 0.0, None),  # no event: 0
        "cus_3": ("control", 1.0, None),
        "cus_4": ("offer", 1.0, None),  # two orders: converted once
        "cus_5": ("offer", 0.0, None),  # ordered an hour before assignment
        "cus_6": ("offer", 1.0, None),
    }
    assert _values(spring, "orders") == {
        "cus_1": ("control", 1.0, 1.0),  # +20d is outside; -3d is the pre-period
        "cus_2": ("control", 0.0, 0.0),
        "cus_3": ("control", 1.0, 0.0),
        "cus_4": ("offer", 2.0, 0.0),
        "cus_5": ("offer", 0.0, 1.0),
        "cus_6": ("offer", 1.0, 0.0),  # +14d exactly is outside [T, T+14d)
    }
    revenue = {c: v for c, (_, v, _) in _values(spring, "revenue").items()}
    assert revenue == {
        "cus_1": 10.0,
        "cus_2": 0.0,
        "cus_3": 12.5,  # revenue sent as text "12.5"
        "cus_4": 50.0,
        "cus_5": 0.0,
        "cus_6": 15.0,
    }
    # covariate from the profile column `monetary` (all orders' revenue by NOW)
    spend = {c: cov for c, (_, _, cov) in _values(spring, "spend").items()}
    assert spend == {
        "cus_1": 22.0,
        "cus_2": 0.0,
        "cus_3": 12.5,
        "cus_4": 50.0,
        "cus_5": 40.0,
        "cus_6": 114.0,
    }


def test_summaries_are_the_sums_by_hand(spring: Workspace) -> None:
    assert spring.campaigns.summaries("spring", "purchased") == {
        ("control", "all"): ArmSummary(3, 2.0, 2.0),
        ("offer", "all"): ArmSummary(3, 2.0, 2.0),
    }
    assert spring.campaigns.summaries("spring", "orders") == {
        ("control", "all"): ArmSummary(3, 2.0, 2.0, cov_sum=1.0, cov_sum_sq=1.0, cross=1.0),
        ("offer", "all"): ArmSummary(3, 3.0, 5.0, cov_sum=1.0, cov_sum_sq=1.0, cross=0.0),
    }
    assert spring.campaigns.summaries("spring", "revenue") == {
        ("control", "all"): ArmSummary(3, 22.5, 100.0 + 12.5**2),
        ("offer", "all"): ArmSummary(3, 65.0, 50.0**2 + 15.0**2),
    }
    spend = spring.campaigns.summaries("spring", "spend")
    assert spend[("offer", "all")] == ArmSummary(
        3,
        65.0,
        50.0**2 + 15.0**2,
        cov_sum=50.0 + 40.0 + 114.0,
        cov_sum_sq=50.0**2 + 40.0**2 + 114.0**2,
        cross=50.0 * 50.0 + 15.0 * 114.0,
    )


def test_summaries_by_a_text_trait_with_small_values_merged(spring: Workspace) -> None:
    by_tier = spring.campaigns.summaries("spring", "revenue", by="tier", min_bucket=1)
    assert by_tier == {
        ("control", "gold"): ArmSummary(2, 10.0, 100.0),
        ("control", "silver"): ArmSummary(1, 12.5, 156.25),
        ("offer", "gold"): ArmSummary(1, 50.0, 2500.0),
        ("offer", "silver"): ArmSummary(1, 0.0, 0.0),
        ("offer", "(none)"): ArmSummary(1, 15.0, 225.0),  # cus_6 has no tier
    }
    merged = spring.campaigns.summaries("spring", "revenue", by="tier", min_bucket=3)
    # gold has 3 customers and stays; silver (2) goes to "(other)"
    assert merged[("control", "(other)")] == ArmSummary(1, 12.5, 156.25)
    assert merged[("offer", "(other)")] == ArmSummary(1, 0.0, 0.0)


def test_summaries_by_a_numeric_trait_with_edges(spring: Workspace) -> None:
    by = spring.campaigns.summaries("spring", "purchased", by="monetary", edges=[20, 100])
    # monetary: cus_1 22, cus_2 0, cus_3 12.5 | cus_4 50, cus_5 40, cus_6 114
    assert by == {
        ("control", "< 20"): ArmSummary(2, 1.0, 1.0),
        ("control", "[20, 100)"): ArmSummary(1, 1.0, 1.0),
        ("offer", "[20, 100)"): ArmSummary(2, 1.0, 1.0),
        ("offer", ">= 100"): ArmSummary(1, 1.0, 1.0),
    }
    halves = spring.campaigns.summaries("spring", "purchased", by="monetary", bins=2)
    # the median of (0, 12.5, 22, 40, 50, 114) is 31
    assert set(halves) == {("control", "< 31"), ("offer", ">= 31")}


def test_exposures_are_recorded_idempotently(spring: Workspace) -> None:
    assert spring.campaigns.record_exposures("spring") == {"opened": 3}
    assert spring.campaigns.record_exposures("spring") == {"opened": 3}  # replaced, not added
    rows = spring.lake.raw("exposures").to_pyarrow().to_pylist()
    assert sorted((r["customer_id"], r["arm"], r["kind"]) for r in rows) == [
        ("cus_4", "offer", "opened"),
        ("cus_6", "offer", "opened"),
        ("cus_6", "offer", "opened"),
    ]
    assert spring.campaigns.exposure_counts("spring") == {"offer": {"opened": 2}}
    # exposed-only analysis keeps cus_4 and cus_6 (both offer)
    exposed = spring.campaigns.summaries("spring", "revenue", exposed_only=True)
    assert exposed == {("offer", "all"): ArmSummary(2, 65.0, 2725.0)}


def test_unknown_metric_and_trait(spring: Workspace) -> None:
    with pytest.raises(NotFound, match="no metric `clicks`"):
        spring.campaigns.outcomes("spring", "clicks")
    with pytest.raises(InvalidValue, match="no profile has a trait `shoe_size`") as caught:
        spring.campaigns.summaries("spring", "revenue", by="shoe_size")
    assert caught.value.field == "by"
    # a name is a value, never SQL text: quotes and JSON-path characters are just characters
    for name in ("it's", 'a"b', "a.b", "$[0]", "ünï"):
        with pytest.raises(InvalidValue, match="no profile has a trait"):
            spring.campaigns.summaries("spring", "revenue", by=name)


def test_a_property_name_with_quotes_is_read_as_a_name(
    workspace: Workspace, tmp_path: Path
) -> None:
    odd = {"it's": 3, 'say "hi"': 4, "a.b": 5, "prïce": 6}
    messages = [
        *cd.MESSAGES[:6],
        {**cd._order("q1", "u1", cd.DAY, 0), "properties": odd},
    ]
    cd.build(workspace, tmp_path, messages)
    metrics = [
        {"name": f"m{i}", "kind": "sum", "event": "Order Completed", "property": key}
        for i, key in enumerate(odd)
    ]
    workspace.campaigns.create(cd.definition(metrics=metrics, exposures=[]))
    cd.import_known_arms(workspace, tmp_path)
    for i, value in enumerate(odd.values()):
        sums = workspace.campaigns.summaries("spring", f"m{i}")
        assert sums[("control", "all")] == ArmSummary(3, value, value**2)


def test_infinite_amounts_count_as_no_amount(workspace: Workspace, tmp_path: Path) -> None:
    import json

    def gift(mid: str, user: str, days: int, amount: object) -> dict[str, object]:
        message = cd._order(mid, user, days * cd.DAY, 0)
        return {**message, "event": "Gift Sent", "properties": {"amount": amount}}

    messages = [
        *cd.MESSAGES,
        gift("g1", "u1", 1, 10),
        gift("g2", "u2", 1, "1e999"),
        gift("g3", "u2", 2, "-Infinity"),
        gift("g4", "u2", 3, "NaN"),
    ]
    cd.build(workspace, tmp_path, messages)
    metrics = [
        {"name": "gifts", "kind": "count", "event": "Gift Sent"},
        {"name": "given", "kind": "sum", "event": "Gift Sent", "property": "amount"},
    ]
    workspace.campaigns.create(cd.definition(metrics=metrics, exposures=[]))
    cd.import_known_arms(workspace, tmp_path)
    given = {c: v for c, (_, v, _) in _values(workspace, "given").items()}
    assert given["cus_2"] == 0.0 and given["cus_1"] == 10.0
    assert _values(workspace, "gifts")["cus_2"][1] == 3.0  # the events still count
    results = workspace.campaigns.results("spring", by="monetary", bins=2)
    json.dumps(results.to_dict(), allow_nan=False)  # every number is finite
