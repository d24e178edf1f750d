"""/api/campaigns/{name}/uplift and /lift-tests: the same numbers as the domain functions, the
access policy (scores are customer data), 4xx JSON for bad input."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tandem.campaigns.lift_export import campaign_lift_tests, write_lift_tests
from tandem.campaigns.uplift import campaign_uplift
from tests.campaigns import campaign_data as cd
from tests.server.api.support import Api

pytestmark = [pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")]

MARKETING_VIEWER = "viewer@example.com"  # a viewer in marketing, an owning function
HR = "hr@example.com"  # an editor outside the owning functions
PEOPLE = 120


def _messages() -> list[dict[str, Any]]:
    """120 customers; the treatment (even numbers, imported) adds an order in the window for
    gold customers (every third) with probability 0.6; everyone orders with probability 0.1."""
    rng = random.Random(5)
    out: list[dict[str, Any]] = []
    for i in range(1, PEOPLE + 1):
        gold = i % 3 == 0
        out.append(
            {
                "messageId": f"id{i}",
                "type": "identify",
                "userId": f"u{i}",
                "timestamp": cd._ts(-60 * cd.DAY),
                "traits": {"email": f"p{i}@x.example", "tier": "gold" if gold else "silver"},
            }
        )
        if rng.random() < 0.1:
            out.append(cd._order(f"b{i}", f"u{i}", 3 * cd.DAY, 20))
        if i % 2 == 0 and gold and rng.random() < 0.6:
            out.append(cd._order(f"t{i}", f"u{i}", 2 * cd.DAY + timedelta(hours=i), 30))
    return out


@pytest.fixture
def built(api: Api, tmp_path: Path) -> Api:
    cd.build(api.ws, tmp_path, _messages())
    customers = [f"cus_{i}" for i in range(1, PEOPLE + 1)]
    api.ws.campaigns.create(cd.definition(customers=customers))
    arms = tmp_path / "arms.csv"
    arms.write_text(
        "customer_id,arm\n"
        + "".join(f"{c},{'offer' if int(c[4:]) % 2 == 0 else 'control'}\n" for c in customers),
        encoding="utf-8",
    )
    api.ws.campaigns.import_assignments("spring", arms, at=cd.T)
    return api


def test_uplift_over_http_equals_the_domain_function(built: Api) -> None:
    params = {"metric": "purchased", "trait": ["tier"], "folds": 3, "learner": "t"}
    answer = built.call(HR, "GET", "/api/campaigns/spring/uplift", params=params)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    direct = campaign_uplift(built.ws, "spring", "purchased", traits=["tier"], folds=3, learner="t")
    assert data["qini_coefficient"] == pytest.approx(direct.qini_coefficient)
    assert data["customers"] == PEOPLE and data["treated"] == PEOPLE // 2
    assert "scores" not in data
    assert len(data["deciles"]) == 10
    # gold customers are the ones the offer moves: the model ranks them first
    assert data["qini_coefficient"] > 0.2
    # per-customer scores are customer data: an owning function's viewer reads them, HR not
    denied = built.call(
        HR, "GET", "/api/campaigns/spring/uplift", params={**params, "scores": "true"}
    )
    assert denied.status_code == 403, denied.text
    allowed = built.call(
        MARKETING_VIEWER, "GET", "/api/campaigns/spring/uplift", params={**params, "scores": "true"}
    )
    assert allowed.status_code == 200, allowed.text
    scores = allowed.json()["scores"]
    assert len(scores) == PEOPLE
    top = [s["customer_id"] for s in scores[: PEOPLE // 3]]
    assert sum(int(c[4:]) % 3 == 0 for c in top) >= 0.8 * len(top)


def test_uplift_bad_inputs_are_4xx_json(built: Api) -> None:
    for params, status, field in (
        ({"metric": "nope"}, 404, None),
        ({"metric": "purchased", "learner": "s"}, 400, "learner"),
        ({"metric": "purchased", "arm": "nope"}, 400, "arm"),
        ({"metric": "purchased", "folds": 1}, 422, None),
        ({"metric": "purchased", "trait": ["never-seen"]}, 400, "traits"),
    ):
        answer = built.call(HR, "GET", "/api/campaigns/spring/uplift", params=params)
        assert answer.status_code == status, (params, answer.text)
        body = answer.json()
        assert "error" in body and "detail" in body
        if field is not None:
            assert body["field"] == field, body
    missing = built.call(HR, "GET", "/api/campaigns/nope/uplift", params={"metric": "purchased"})
    assert missing.status_code == 404


def test_lift_tests_over_http(built: Api, tmp_path: Path) -> None:
    answer = built.call(
        HR,
        "GET",
        "/api/campaigns/spring/lift-tests",
        params={"spend": ["offer:600"], "metric": "revenue"},
    )
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["rows"]
    (direct,) = campaign_lift_tests(built.ws, "spring", spend={"offer": 600.0}, metric="revenue")
    assert row == direct.to_dict()
    assert (row["x"], row["delta_x"], row["unit"]) == (0.0, 600.0, "spend")
    as_csv = built.call(
        HR,
        "GET",
        "/api/campaigns/spring/lift-tests",
        params={"spend": ["offer:600"], "metric": "revenue", "format": "csv"},
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == ["channel", "x", "delta_x", "delta_y", "sigma"]
    assert float(rows[0]["delta_y"]) == direct.delta_y
    # the CLI's file and the API's text are one writer's output: LF line ends, the same bytes
    assert "\r" not in as_csv.text and as_csv.text.endswith("\n")
    path = tmp_path / "lift.csv"
    write_lift_tests([direct], path)
    assert path.read_bytes() == as_csv.text.encode("utf-8")
    bad = built.call(HR, "GET", "/api/campaigns/spring/lift-tests", params={"spend": ["offer"]})
    assert bad.status_code == 400 and bad.json()["field"] == "query.spend"
    # no exposures recorded and no spend: the x axis is unknown
    none = built.call(HR, "GET", "/api/campaigns/spring/lift-tests")
    assert none.status_code == 400 and none.json()["field"] == "exposure_kind"
