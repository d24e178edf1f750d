"""`tandem campaign ...` end to end: create, list, show, assign, import, exposures, results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tandem import Workspace
from tests.campaigns import campaign_data as cd
from tests.conftest import Tandem

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]


@pytest.fixture
def built(workspace: Workspace, tmp_path: Path) -> Path:
    cd.build(workspace, tmp_path)
    root = workspace.root
    workspace.close()
    return root


def test_campaign_lifecycle(tandem: Tandem, built: Path, tmp_path: Path) -> None:
    w = ("-w", built)
    definition = tmp_path / "spring.json"
    definition.write_text(json.dumps(cd.definition()), encoding="utf-8")
    run = tandem("campaign", "create", definition, *w)
    assert run.exit_code == 0, run.stderr
    assert "created campaign spring owned by marketing, it" in run.stdout
    assert "tandem campaign assign spring" in run.stdout

    listed = tandem("campaign", "list", "--json", *w).json()
    assert [c["name"] for c in listed] == ["spring"] and listed[0]["customers"] == 6

    arms = tmp_path / "arms.csv"
    arms.write_text(
        "customer_id,arm\n" + "".join(f"{c},{a}\n" for c, a in cd.ARMS.items()) + "cus_9,offer\n",
        encoding="utf-8",
    )
    run = tandem("campaign", "import-assignments", "spring", arms, "--at", "2026-03-01", *w)
    assert run.exit_code == 0, run.stderr
    assert "7 rows: 6 accepted (6 new assignments), 1 rejected" in run.stdout
    assert "row 7 (cus_9): unknown customer (customer_id)" in run.stderr

    assigned = tandem("campaign", "assign", "spring", "--json", *w).json()
    assert assigned["total"] == 6 and assigned["added"] == 0  # all imported already
    shown = tandem("campaign", "show", "spring", "--json", *w).json()
    assert shown["assigned"] == {"control": 3, "offer": 3}

    exposures = tandem("campaign", "exposures", "spring", "--json", *w).json()
    assert exposures["exposures"] == {"opened": 3}
    assert exposures["customers_by_arm"] == {"offer": {"opened": 2}}

    data = tandem("campaign", "results", "spring", "--json", *w).json()
    revenue = next(m for m in data["metrics"] if m["metric"] == "revenue")
    (versus,) = revenue["comparisons"]
    assert versus["arm"] == "offer" and versus["control_mean"] == 7.5
    assert versus["relative"]["estimate"] == pytest.approx((65 / 3) / 7.5 - 1)
    assert data["srm"]["mismatch"] is False

    text = tandem("campaign", "results", "spring", "--by", "tier", "--min-bucket", "1", *w).stdout
    assert "intention to treat" in text and "split matches the shares" in text
    assert "revenue" in text and "+188.9%" in text
    assert "tier = gold" in text
    # the headers say which estimate the interval and the p-value belong to, at the level used
    assert "95% CI (rel)" in text and "p (rel)" in text


def test_errors_exit_1_with_the_reason(tandem: Tandem, built: Path, tmp_path: Path) -> None:
    w = ("-w", built)
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps(cd.definition(arms=[{"name": "a", "share": 1.0}])), encoding="utf-8")
    run = tandem("campaign", "create", bad, *w)
    assert run.exit_code == 1
    assert "arms" in run.stderr and "at least 2 items" in run.stderr
    run = tandem("campaign", "results", "nope", "--json", *w)
    assert run.exit_code == 1 and run.json()["error"] == "not_found"
    run = tandem("campaign", "results", "spring", "--edges", "a,b", "--by", "monetary", *w)
    assert run.exit_code == 1
