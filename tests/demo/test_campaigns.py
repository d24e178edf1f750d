"""The demo's campaigns with known true effects: Tandem finds each (tandem.demo.campaigns)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tandem.campaigns.lift_export import campaign_lift_tests
from tandem.campaigns.metrics import trait_value
from tandem.campaigns.uplift import campaign_uplift
from tandem.demo import build_demo
from tandem.demo.campaigns import BUCKET_TRAIT, DESIGNS, load_campaign_truth
from tandem.errors import InvalidValue
from tandem.workspace import Workspace
from tests.conftest import Tandem

AS_OF = date(2026, 12, 6)
WORKS, NOTHING, GOLD_ONLY = (d.name for d in DESIGNS)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    company = build_demo(tmp_path_factory.mktemp("campaigns") / "demo", seed=7, as_of=AS_OF)
    yield company.workspace
    company.workspace.close()


@pytest.fixture(scope="module")
def truth(demo: Workspace) -> dict[str, Any]:
    return load_campaign_truth(demo.root)["campaigns"]


def purchased(results: Any, arm: str) -> Any:
    return results.metric("purchased").comparisons[arm]


def covers(estimate: Any, value: float) -> bool:
    return bool(estimate.ci_low <= value <= estimate.ci_high)


def test_campaigns_segments_and_exposures_are_in_place(demo: Workspace, truth: dict) -> None:
    assert [c.name for c in demo.campaigns.list()] == sorted(d.name for d in DESIGNS)
    subscribers = demo.segments.size("newsletter-subscribers")
    assert subscribers > 800
    assert demo.segments.size("gold-members") > 300
    # each segment evaluated once (creating it evaluates it), not twice
    for name in ("newsletter-subscribers", "gold-members"):
        assert [e.evaluation for e in demo.segments.get(name).history] == [1], name
    for design in DESIGNS:
        entry = truth[design.name]
        assert sum(entry["assigned"].values()) == subscribers
        # every email sent is recorded as an exposure of a treated customer, none unassigned
        exposures = demo.campaigns.exposure_counts(design.name)
        assert exposures == {design.arm: {"sent": entry["sent"]}}
        assert entry["sent"] == entry["assigned"][design.arm]
    assert truth[NOTHING]["extra_orders"] == 0
    assert truth[WORKS]["extra_orders"] > 30 and truth[GOLD_ONLY]["extra_orders"] > 15
    # resolving again kept every customer's id: the campaigns' events joined their customers
    assert demo.lake.raw("customer_ids").count().to_pyarrow().as_py() == (
        demo.lake.raw("profiles").count().to_pyarrow().as_py()
    )


def test_the_working_campaign_is_found_with_its_true_effect(demo: Workspace, truth: dict) -> None:
    results = demo.campaigns.results(WORKS)
    assert not results.srm.mismatch
    c = purchased(results, "offer")
    true = truth[WORKS]["truth"]["purchased"]["overall"]
    assert true > 0.05
    assert c.absolute.p_value < 0.001
    assert covers(c.absolute, true)
    assert c.cuped_absolute is not None and covers(c.cuped_absolute, true)
    revenue = results.metric("revenue").comparisons["offer"]
    assert revenue.absolute.p_value < 0.01
    assert covers(revenue.absolute, truth[WORKS]["truth"]["revenue"]["overall"])


def test_the_campaign_that_does_nothing_is_not_significant(demo: Workspace, truth: dict) -> None:
    results = demo.campaigns.results(NOTHING)
    assert truth[NOTHING]["truth"]["purchased"]["overall"] == 0.0
    for metric in ("purchased", "revenue"):
        c = results.metric(metric).comparisons["redesign"]
        assert c.absolute.p_value > 0.05
        assert covers(c.absolute, 0.0)


def test_the_gold_only_campaign_works_only_in_the_gold_bucket(demo: Workspace, truth: dict) -> None:
    results = demo.campaigns.results(GOLD_ONLY, by=BUCKET_TRAIT)
    true = truth[GOLD_ONLY]["truth"]["purchased"]["by_bucket"]
    assert true["gold"] > 0.1
    buckets = {b.bucket: b for b in results.buckets}
    assert {"gold", "silver", "bronze", "(none)"} <= set(buckets)
    for name, bucket in buckets.items():
        c = bucket.metrics[0].comparisons["preview"]
        assert bucket.metrics[0].metric == "purchased"
        if name == "gold":
            assert c.absolute.p_value < 0.001
            assert covers(c.absolute, true["gold"])
        else:
            assert true[name] == 0.0
            assert c.absolute.p_value > 0.05, name


def test_the_uplift_model_ranks_gold_members_first(demo: Workspace) -> None:
    values, _ = trait_value(demo.lake, BUCKET_TRAIT)
    tiers = {r["customer_id"]: r["_trait"] for r in values.to_pyarrow().to_pylist()}
    for learner in ("t", "x"):
        for behaviour in (False, True):
            result = campaign_uplift(
                demo, GOLD_ONLY, "purchased", learner=learner, behaviour=behaviour,
                traits=[BUCKET_TRAIT],
            )  # fmt: skip
            ids, scores = result.scores["customer_id"], result.scores["score"]
            tier = np.array([tiers.get(c) or "(none)" for c in ids])
            means = {t: float(scores[tier == t].mean()) for t in set(tier.tolist())}
            assert max(means, key=means.__getitem__) == "gold", means
            top = np.argsort(-scores, kind="mergesort")[: len(scores) // 4]
            # a quarter of the customers are gold members: most of the top quarter is gold
            assert (tier[top] == "gold").mean() > (0.8 if not behaviour else 0.45)
            assert result.qini_coefficient > 0.15
            assert not result.sampled and result.customers == result.total


def test_qini_is_clearly_positive_only_where_the_effect_differs(demo: Workspace) -> None:
    qini = {
        name: campaign_uplift(demo, name, "purchased", traits=[BUCKET_TRAIT]).qini_coefficient
        for name in (WORKS, NOTHING, GOLD_ONLY)
    }
    assert qini[GOLD_ONLY] > 0.15
    # the offer works for every customer with a shop account alike: there is nobody to single
    # out, so no ranking beats random targeting; and nothing to rank without an effect
    assert abs(qini[WORKS]) < 0.05
    assert qini[NOTHING] < 0.05


def test_uplift_samples_above_max_rows(demo: Workspace) -> None:
    a = campaign_uplift(demo, WORKS, "purchased", max_rows=400, folds=3, seed=1)
    b = campaign_uplift(demo, WORKS, "purchased", max_rows=400, folds=3, seed=1)
    assert a.sampled and a.customers == 400 and a.total > 900
    assert a.scores["customer_id"].tolist() == b.scores["customer_id"].tolist()
    assert np.array_equal(a.scores["score"], b.scores["score"])


def test_lift_export_of_the_demo(demo: Workspace, tmp_path: Path) -> None:
    tests = campaign_lift_tests(demo, WORKS, spend={"offer": 2400.0}, channel="email_spend")
    assert [(t.metric, t.arm) for t in tests] == [("purchased", "offer"), ("revenue", "offer")]
    results = demo.campaigns.results(WORKS)
    c = purchased(results, "offer")
    t = tests[0]
    assert (t.x, t.delta_x, t.unit, t.channel) == (0.0, 2400.0, "spend", "email_spend")
    assert c.cuped_absolute is not None
    assert t.delta_y == pytest.approx(c.cuped_absolute.estimate * c.treatment_n)
    assert t.sigma == pytest.approx(c.cuped_absolute.std_error * c.treatment_n)
    # without spend, the x axis is the customers the email reached
    by_exposure = campaign_lift_tests(demo, WORKS, metric="purchased")
    assert len(by_exposure) == 1
    assert by_exposure[0].delta_x == c.treatment_n and by_exposure[0].unit == "exposures"
    per_send = campaign_lift_tests(demo, WORKS, metric="revenue", cost_per_exposure=0.5)
    assert per_send[0].delta_x == pytest.approx(0.5 * c.treatment_n)
    with pytest.raises(InvalidValue, match="no arm nope"):
        campaign_lift_tests(demo, WORKS, spend={"nope": 1.0})
    with pytest.raises(InvalidValue, match="no metric 'clicks'"):
        campaign_lift_tests(demo, WORKS, metric="clicks")


def test_cli_uplift_and_export_lift(demo: Workspace, tandem: Tandem, tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    run = tandem(
        "campaign", "uplift", GOLD_ONLY, "--metric", "purchased", "--trait", BUCKET_TRAIT,
        "--out", scores, "-w", demo.root, "--json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout
    data = run.json()
    assert data["campaign"] == GOLD_ONLY and data["learner"] == "x"
    assert data["qini_curve"][0] == {"share": 0.0, "incremental": 0.0}
    assert len(data["deciles"]) == 10
    with scores.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == data["customers"]
    assert [float(r["score"]) for r in rows] == sorted(
        (float(r["score"]) for r in rows), reverse=True
    )
    out = tmp_path / "lift.csv"
    run = tandem("campaign", "export-lift", WORKS, "--out", out, "--spend", "offer=2400",
                 "-w", demo.root)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert out.read_text(encoding="utf-8").splitlines()[0] == "channel,x,delta_x,delta_y,sigma"
    # the null campaign's lift is negative: PyMC-Marketing would refuse it, so Tandem does
    run = tandem("campaign", "export-lift", NOTHING, "--out", tmp_path / "n.csv",
                 "--spend", "redesign=100", "-w", demo.root, "--json")  # fmt: skip
    assert run.exit_code == 1
    assert "opposite signs" in run.json()["detail"]
    run = tandem("campaign", "export-lift", WORKS, "--out", tmp_path / "x.csv",
                 "--spend", "offer", "-w", demo.root)  # fmt: skip
    assert run.exit_code == 1
    assert "ARM=AMOUNT" in run.stderr


def test_the_campaigns_page_lists_campaigns_and_their_lifts(demo: Workspace) -> None:
    import warnings

    from tandem.server import create_app
    from tests.server.pages.conftest import log_in

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    demo.accounts.add("viewer@harbour.example", function="hr", role="viewer", password="x" * 20)
    with TestClient(create_app(demo), follow_redirects=False) as client:
        assert log_in(client, "viewer@harbour.example", "x" * 20).status_code == 303
        page = client.get("/campaigns")
    assert page.status_code == 200
    text = page.text
    assert "No campaign yet." not in text
    listing = text.split('id="campaigns"')[1].split("</section>")[0]
    rows = {
        name: listing.split(f'href="#campaign-{name}">{name}</a>')[1].split("</tr>")[0]
        for name in (WORKS, NOTHING, GOLD_ONLY)
    }
    assert "worked: raised purchased" in rows[WORKS]
    assert "no significant effect" in rows[NOTHING]
    assert "segment newsletter-subscribers" in rows[WORKS] and "ended" in rows[WORKS]
    assert "marketing, ecommerce" in rows[WORKS]
    results = demo.campaigns.results(WORKS)
    c = purchased(results, "offer")
    card = text.split(f'id="campaign-{WORKS}"')[1].split("</section>")[0]
    assert (
        f"{c.absolute.estimate:+.4g} [{c.absolute.ci_low:+.4g}, {c.absolute.ci_high:+.4g}]" in card
    )
    assert f'id="lift-{WORKS}"' in card and "data-figure=" in card
