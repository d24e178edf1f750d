"""/api/campaigns/{name}/uplift and /lift-tests: the HTTP faces of `tandem campaign uplift` and
`tandem campaign export-lift`, over the same domain functions with the same validation.

The uplift model's evaluation (Qini curve, coefficients, deciles) and the lift tests are
aggregates every signed-in user reads, as the campaign's results; the per-customer scores
(`scores=true`) are customer data and need `read_data` on the campaign.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import Field

from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import owned_resource, require

router = APIRouter(tags=["campaigns"])

Name = Annotated[str, Field(min_length=1, max_length=64)]
MAX_SCORES = 200_000


@router.get(
    "/campaigns/{name}/uplift",
    summary="An uplift model of one metric: Qini curve, coefficients, deciles (and scores)",
)
def uplift(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: Name,
    metric: Annotated[str, Query(min_length=1, max_length=64)],
    arm: Annotated[str | None, Query(max_length=64)] = None,
    learner: Annotated[str, Query(max_length=8)] = "x",
    trait: Annotated[list[str] | None, Query(max_length=20)] = None,
    only_traits: bool = False,
    folds: Annotated[int, Query(ge=2, le=20)] = 5,
    max_rows: Annotated[int, Query(ge=20, le=MAX_SCORES)] = 200_000,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    scores: bool = False,
) -> dict[str, Any]:
    from tandem.campaigns.uplift import campaign_uplift

    d = ws.campaigns.get(name).definition
    if scores:
        require(user, "read_data", owned_resource("campaign", d.name, d.owners))
    result = campaign_uplift(
        ws,
        d.name,
        metric,
        arm=arm,
        learner=learner,
        behaviour=not only_traits,
        traits=trait or [],
        max_rows=max_rows,
        folds=folds,
        seed=seed,
    )
    data = result.to_dict()
    if scores:
        ids, arms, values = (result.scores[k] for k in ("customer_id", "arm", "score"))
        order = sorted(range(len(ids)), key=lambda i: (-float(values[i]), str(ids[i])))
        data["scores"] = [
            {"customer_id": str(ids[i]), "arm": str(arms[i]), "score": float(values[i])}
            for i in order
        ]
    return data


@router.get(
    "/campaigns/{name}/lift-tests",
    summary="The campaign's lifts as PyMC-Marketing lift tests (channel, x, delta_x, delta_y, "
    "sigma)",
    response_model=None,
)
def lift_tests(
    ws: WorkspaceDep,
    _user: CurrentUser,
    name: Name,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    arm: Annotated[str | None, Query(max_length=64)] = None,
    spend: Annotated[list[str] | None, Query(max_length=20)] = None,
    cost_per_exposure: Annotated[float | None, Query(ge=0)] = None,
    exposure: Annotated[str, Query(max_length=64)] = "sent",
    channel: Annotated[str | None, Query(max_length=200)] = None,
    cuped: bool = True,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> dict[str, Any] | Response:
    from tandem.campaigns.lift_export import (
        campaign_lift_tests,
        parse_spend,
        write_lift_tests_csv,
    )

    tests = campaign_lift_tests(
        ws,
        name,
        metric=metric,
        arm=arm,
        channel=channel,
        spend=parse_spend(spend, separator=":", option="spend", field="query.spend"),
        cost_per_exposure=cost_per_exposure,
        exposure_kind=exposure,
        cuped=cuped,
    )
    if format == "csv":
        text = io.StringIO()
        write_lift_tests_csv(tests, text)
        return Response(text.getvalue(), media_type="text/csv")
    return {"campaign": name, "rows": [t.to_dict() for t in tests]}
