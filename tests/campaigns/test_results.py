"""Campaign results: the numbers equal tandem.campaigns.stats on sums worked out by hand; the SRM
check flags a broken split; CUPED narrows the interval when the covariate predicts the outcome."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tandem import Workspace
from tandem.campaigns.stats import ArmSummary, compare, srm_check
from tandem.errors import NotFound
from tests.campaigns import campaign_data as cd

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]


@pytest.fixture
def spring(workspace: Workspace, tmp_path: Path) -> Workspace:
    cd.build(workspace, tmp_path)
    workspace.campaigns.create(cd.definition())
    return workspace


def test_results_before_any_assignment_say_what_to_do(spring: Workspace) -> None:
    with pytest.raises(NotFound, match="no assignments yet") as caught:
        spring.campaigns.results("spring")
    assert "tandem campaign assign spring" in (caught.value.detail or "")


def test_results_equal_stats_on_hand_made_sums(spring: Workspace, tmp_path: Path) -> None:
    cd.import_known_arms(spring, tmp_path)
    spring.campaigns.record_exposures("spring")
    results = spring.campaigns.results("spring")
    data = results.to_dict()
    assert data["analysis"] == "intention to treat"
    assert data["assigned"] == {"control": 3, "offer": 3}
    assert data["exposures"] == {"offer": {"opened": 2}}
    assert results.srm == srm_check([3, 3], [0.5, 0.5])
    expected = {
        "purchased": compare(ArmSummary(3, 2, 2), ArmSummary(3, 2, 2), kind="proportion"),
        "orders": compare(
            ArmSummary(3, 2, 2, cov_sum=1, cov_sum_sq=1, cross=1),
            ArmSummary(3, 3, 5, cov_sum=1, cov_sum_sq=1, cross=0),
            kind="mean",
            covariate_kind="mean",
        ),
        "revenue": compare(ArmSummary(3, 22.5, 256.25), ArmSummary(3, 65, 2725), kind="mean"),
    }
    for name, comparison in expected.items():
        metric = results.metric(name)
        assert metric.comparisons == {"offer": comparison}, name
        assert [a.to_dict() for a in metric.arms] == [
            {"arm": "control", "n": 3, "mean": comparison.control_mean},
            {"arm": "offer", "n": 3, "mean": comparison.treatment_mean},
        ]
    revenue = results.metric("revenue").comparisons["offer"]
    assert revenue.control_mean == 7.5 and revenue.treatment_mean == pytest.approx(65 / 3)
    assert revenue.absolute.estimate == pytest.approx(65 / 3 - 7.5)
    assert revenue.relative.estimate == pytest.approx((65 / 3) / 7.5 - 1)
    sequential = spring.campaigns.results("spring", sequential=True).metric("revenue")
    assert sequential.comparisons["offer"] == compare(
        ArmSummary(3, 22.5, 256.25), ArmSummary(3, 65, 2725), kind="mean", sequential=True
    )


def test_results_by_trait_repeat_the_statistics_per_bucket(
    spring: Workspace, tmp_path: Path
) -> None:
    cd.import_known_arms(spring, tmp_path)
    results = spring.campaigns.results("spring", by="tier", min_bucket=1)
    buckets = {b.bucket: b for b in results.buckets}
    assert set(buckets) == {"gold", "silver", "(none)"}
    gold = next(m for m in buckets["gold"].metrics if m.metric == "revenue")
    # gold: control cus_1 (10), cus_2 (0); offer cus_4 (50) - one customer cannot be compared
    assert [a.to_dict() for a in gold.arms] == [
        {"arm": "control", "n": 2, "mean": 5.0},
        {"arm": "offer", "n": 1, "mean": 50.0},
    ]
    assert gold.comparisons == {} and "too few customers" in gold.notes[0]
    assert buckets["gold"].n == 3 and buckets["gold"].small is False  # min_bucket=1
    assert results.by is not None and results.by.trait == "tier"


def _population(n: int, seed: int, lift: float) -> tuple[list[dict[str, Any]], list[str]]:
    """`n` customers whose pre-period orders predict their in-window orders (each has a rate);
    the offer arm (odd customers) orders `lift` times as often."""
    rng = random.Random(seed)
    messages: list[dict[str, Any]] = []
    arms = []
    for i in range(1, n + 1):
        arm = "offer" if i % 2 else "control"
        arms.append(arm)
        user = f"u{i}"
        messages.append(
            {
                "messageId": f"id{i}",
                "type": "identify",
                "userId": user,
                "timestamp": "2026-01-01T00:00:00Z",
                "traits": {"email": f"p{i}@x.example"},
            }
        )
        rate = rng.choice([0, 0, 1, 2, 4, 6])
        for k in range(rng.randint(max(0, rate - 1), rate + 1)):  # pre-period
            messages.append(cd._order(f"p{i}-{k}", user, -timedelta(days=k + 1), 10))
        window = rate * (lift if arm == "offer" else 1.0)
        for k in range(rng.randint(max(0, round(window) - 1), round(window) + 1)):
            messages.append(cd._order(f"w{i}-{k}", user, timedelta(hours=k + 1), 10))
    return messages, arms


def _import_arms(ws: Workspace, tmp: Path, arms: list[str]) -> None:
    path = tmp / "arms.csv"
    path.write_text(
        "customer_id,arm\n" + "".join(f"cus_{i},{a}\n" for i, a in enumerate(arms, 1)),
        encoding="utf-8",
    )
    summary = ws.campaigns.import_assignments("many", path, at=cd.T)
    assert summary.rejected == 0


def _many(ws: Workspace, n: int, **changes: Any) -> None:
    metrics = [
        {
            "name": "orders",
            "kind": "count",
            "event": "Order Completed",
            "window_days": 1,
            "covariate": {"pre_period_days": 28},
        }
    ]
    d = cd.definition(
        name="many", customers=[f"cus_{i}" for i in range(1, n + 1)], metrics=metrics, exposures=[]
    )
    d.update(changes)
    ws.campaigns.create(d)


def test_cuped_narrows_the_interval_on_a_predictive_covariate(
    workspace: Workspace, tmp_path: Path
) -> None:
    messages, arms = _population(400, seed=7, lift=1.5)
    cd.build(workspace, tmp_path, messages)
    _many(workspace, 400)
    _import_arms(workspace, tmp_path, arms)
    result = workspace.campaigns.results("many").metric("orders").comparisons["offer"]
    assert result.cuped_absolute is not None
    assert result.cuped_absolute.std_error < 0.6 * result.absolute.std_error
    assert result.cuped_absolute.p_value is not None and result.cuped_absolute.p_value < 0.001
    assert result.cuped_theta is not None and result.cuped_theta > 0.5


def test_srm_flags_a_broken_split(workspace: Workspace, tmp_path: Path) -> None:
    messages, _ = _population(200, seed=3, lift=1.0)
    cd.build(workspace, tmp_path, messages)
    _many(workspace, 200)
    _import_arms(workspace, tmp_path, ["offer"] * 150 + ["control"] * 50)  # 75/25, shares 50/50
    results = workspace.campaigns.results("many")
    assert results.srm.observed == (50, 150) and results.srm.mismatch is True
    assert results.srm.p_value < 1e-6


def test_a_campaign_kpi_reads_the_relative_lift_in_percent(
    spring: Workspace, tmp_path: Path
) -> None:
    from tandem.collaboration.kpis import check_readable, parse_measure, read_measure

    measure = parse_measure("campaign:spring:revenue")
    assert check_readable(spring, measure) is None  # no assignments yet: no value, no error
    cd.import_known_arms(spring, tmp_path)
    lift = spring.campaigns.results("spring").metric("revenue").comparisons["offer"].relative
    assert read_measure(spring, measure) == round(lift.estimate * 100, 2) == 188.89
    with pytest.raises(NotFound, match="no metric `clicks`"):
        read_measure(spring, parse_measure("campaign:spring:clicks"))
