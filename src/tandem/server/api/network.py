"""The couples network over HTTP: who works with whom, measured, and what is missing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tandem.collaboration.network import POOR_RATING
from tandem.server.deps import CurrentUser, WorkspaceDep

router = APIRouter(tags=["network"])


@router.get("/network", summary="The couples network: edges, measures, findings")
def show(
    ws: WorkspaceDep,
    _user: CurrentUser,
    evidence: Annotated[list[str] | None, Query(max_length=10)] = None,
    survey: Annotated[str | None, Query(max_length=64)] = None,
    threshold: Annotated[float, Query(ge=0, le=100)] = POOR_RATING,
) -> dict[str, Any]:
    return ws.network.show(evidence, survey=survey, threshold=threshold).to_dict()


@router.get("/network/findings", summary="What the couples network says is missing")
def findings(
    ws: WorkspaceDep,
    _user: CurrentUser,
    survey: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    return [f.to_dict() for f in ws.network.findings(survey=survey)]
