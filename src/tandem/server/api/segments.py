"""Segments over HTTP: the same definitions, validation and evaluation as `tandem segment`.

Definitions and sizes are read by every signed-in user; a segment is created, evaluated or
deleted by editors of its owning functions (a new one: an editor whose function is among its
owners), by grants and by admins. Its member list is customer data (`read_data`: owners and the
digital team). A condition on a personal trait (email, phone, name, address, birth date, social
handle) needs `read_personal` on the segment, for a preview too: a count over an email address
says whether that person is a customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from pydantic import BaseModel

from tandem.customers.segments import NAME_PATTERN, require_access
from tandem.server.api.schemas import Done, Schema
from tandem.server.deps import CurrentUser, WorkspaceDep

router = APIRouter(tags=["segments"])

SegmentName = Annotated[str, Path(min_length=1, max_length=64, pattern=f"^{NAME_PATTERN.pattern}$")]
Definition = Annotated[
    dict[str, Any],
    Body(
        description="A segment definition: name, description, owners, where (as in a YAML file)",
        examples=[
            {
                "name": "lapsed-buyers",
                "owners": ["marketing"],
                "where": {
                    "all": [
                        {"trait": "orders", "op": ">=", "value": 1},
                        {"not": {"event": "Order Completed", "in_last_days": 90}},
                    ]
                },
            }
        ],
    ),
]


class PreviewBody(Schema):
    definition: dict[str, Any]
    as_of: datetime | None = None
    """Reference time of "in the last D days" (default now)."""


class EvaluateBody(Schema):
    as_of: datetime | None = None


class Preview(BaseModel):
    name: str
    size: int


class MemberPage(BaseModel):
    segment: str
    evaluation: int
    total: int
    customer_ids: list[str]


@router.get("/segments", summary="Segments with owners and latest size")
def list_segments(ws: WorkspaceDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The segments the caller may read; sizes withheld (`sizes_hidden` says why) where the
    conditions name personal traits the caller may not read."""
    return [s.to_dict() for s in ws.segments.list(user=user)]


@router.post(
    "/segments",
    status_code=status.HTTP_201_CREATED,
    summary="Create a segment (validated), then evaluate it",
)
def create_segment(ws: WorkspaceDep, user: CurrentUser, body: Definition) -> dict[str, Any]:
    return ws.segments.create(body, user=user).to_dict()


@router.post("/segments/preview", summary="The size a definition would have; nothing is saved")
def preview_segment(ws: WorkspaceDep, user: CurrentUser, body: PreviewBody) -> Preview:
    size = ws.segments.preview(body.definition, as_of=body.as_of, user=user)
    return Preview(name=str(body.definition.get("name", "")), size=size)


@router.get("/segments/{name}", summary="A segment: definition, size and size over time")
def get_segment(ws: WorkspaceDep, user: CurrentUser, name: SegmentName) -> dict[str, Any]:
    return ws.segments.get(name, user=user).to_dict()


@router.post("/segments/{name}/evaluate", summary="Evaluate a segment again")
def evaluate_segment(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: SegmentName,
    body: Annotated[EvaluateBody | None, Body()] = None,
) -> dict[str, Any]:
    as_of = body.as_of if body is not None else None
    return ws.segments.evaluate(name, as_of=as_of, user=user).to_dict()


@router.get("/segments/{name}/members", summary="Customer ids of a segment evaluation (paged)")
def segment_members(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: SegmentName,
    evaluation: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> MemberPage:
    info = ws.segments.get(name, history=True)
    require_access(user, "read_data", info.name, info.owners)
    members = ws.segments.members(name, evaluation)
    chosen = evaluation or (info.latest.evaluation if info.latest else 0)
    total = int(members.count().to_pyarrow().as_py())
    page = members.order_by("customer_id").limit(limit, offset=offset).to_pyarrow()
    return MemberPage(
        segment=info.name,
        evaluation=chosen,
        total=total,
        customer_ids=[str(c) for c in page.column("customer_id").to_pylist()],
    )


@router.delete("/segments/{name}", summary="Delete a segment, its history and memberships")
def delete_segment(ws: WorkspaceDep, user: CurrentUser, name: SegmentName) -> Done:
    rows = ws.segments.delete(name, user=user)
    return Done(detail=f"deleted segment {name} ({rows} membership rows)")
