"""Digital initiatives over HTTP: jointly owned, with teams and KPIs.

Reads are open to every signed-in user; an initiative is changed by editors of its owning
functions (a new one: an editor whose function is among its owners), by grants and by admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from pydantic import Field

from tandem.accounts import User
from tandem.collaboration.initiatives import MemberSpec
from tandem.server.api.schemas import Done, Schema
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import owned_resource, require
from tandem.workspace import Workspace

router = APIRouter(tags=["initiatives"])

Key = Annotated[str, Field(min_length=1, max_length=64)]
Status = Literal["proposed", "active", "done", "stopped"]
Origin = Literal["top-down", "bottom-up"]
Number = Annotated[float, Field(allow_inf_nan=False)]


class Member(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    function: Key | None = None
    """Left out: a person of the ownership model with that name."""
    role: Annotated[str, Field(max_length=200)] = ""


class InitiativeCreate(Schema):
    key: Key
    owners: Annotated[list[Key], Field(min_length=1, max_length=20)]
    title: Annotated[str, Field(max_length=200)] | None = None
    goal: Annotated[str, Field(max_length=2000)] = ""
    customer_facing: bool = False
    status: Status = "proposed"
    origin: Origin = "top-down"
    start: date | None = None
    end: date | None = None
    members: Annotated[list[Member], Field(max_length=200)] = Field(default_factory=list)


class InitiativeUpdate(Schema):
    title: Annotated[str, Field(max_length=200)] | None = None
    goal: Annotated[str, Field(max_length=2000)] | None = None
    owners: Annotated[list[Key], Field(min_length=1, max_length=20)] | None = None
    customer_facing: bool | None = None
    status: Status | None = None
    origin: Origin | None = None
    start: date | None = None
    end: date | None = None
    add_members: Annotated[list[Member], Field(max_length=200)] = Field(default_factory=list)
    remove_members: Annotated[list[str], Field(max_length=200)] = Field(default_factory=list)


class KpiCreate(Schema):
    key: Key
    target: Number
    name: Annotated[str, Field(max_length=200)] | None = None
    measure: Annotated[str, Field(max_length=500)] = "manual"
    direction: Literal["at_least", "at_most"] = "at_least"
    baseline: Number | None = None
    unit: Annotated[str, Field(max_length=32)] = ""


class KpiValueCreate(Schema):
    value: Number
    on: date | None = None
    note: Annotated[str, Field(max_length=2000)] = ""


def _members(members: list[Member]) -> list[MemberSpec]:
    return [MemberSpec(m.name, m.function, m.role) for m in members]


def _editable(ws: Workspace, user: User, key: str) -> None:
    info = ws.initiatives.get(key)
    require(user, "edit", owned_resource("initiative", info.key, info.owners))


@router.get("/initiatives", summary="Initiatives with owners, teams and KPIs")
def list_initiatives(
    ws: WorkspaceDep, _user: CurrentUser, status: Status | None = None
) -> list[dict[str, Any]]:
    return [i.to_dict() for i in ws.initiatives.list(status=status)]


@router.get("/initiatives/findings", summary="What the initiatives say is missing")
def findings(ws: WorkspaceDep, _user: CurrentUser) -> list[dict[str, Any]]:
    return [f.to_dict() for f in ws.initiatives.findings()]


@router.post("/initiatives", status_code=status.HTTP_201_CREATED, summary="Add an initiative")
def add_initiative(ws: WorkspaceDep, user: CurrentUser, body: InitiativeCreate) -> dict[str, Any]:
    require(user, "edit", owned_resource("initiative", body.key, body.owners))
    info = ws.initiatives.add(
        body.key,
        owners=body.owners,
        title=body.title,
        goal=body.goal,
        customer_facing=body.customer_facing,
        status=body.status,
        origin=body.origin,
        start=body.start,
        end=body.end,
        members=_members(body.members),
    )
    return info.to_dict()


@router.get("/initiatives/{key}", summary="One initiative")
def get_initiative(ws: WorkspaceDep, _user: CurrentUser, key: Key) -> dict[str, Any]:
    return ws.initiatives.get(key).to_dict()


@router.patch("/initiatives/{key}", summary="Change an initiative, its owners or its team")
def update_initiative(
    ws: WorkspaceDep, user: CurrentUser, key: Key, body: InitiativeUpdate
) -> dict[str, Any]:
    _editable(ws, user, key)
    info = ws.initiatives.update(
        key,
        title=body.title,
        goal=body.goal,
        owners=body.owners,
        customer_facing=body.customer_facing,
        status=body.status,
        origin=body.origin,
        start=body.start,
        end=body.end,
        add_members=_members(body.add_members),
        remove_members=body.remove_members,
    )
    return info.to_dict()


@router.delete("/initiatives/{key}", summary="Remove an initiative")
def remove_initiative(ws: WorkspaceDep, user: CurrentUser, key: Key) -> Done:
    _editable(ws, user, key)
    ws.initiatives.remove(key)
    return Done(detail=f"removed initiative {key}")


@router.post("/initiatives/{key}/kpis", status_code=status.HTTP_201_CREATED, summary="Add a KPI")
def add_kpi(ws: WorkspaceDep, user: CurrentUser, key: Key, body: KpiCreate) -> dict[str, Any]:
    _editable(ws, user, key)
    info = ws.initiatives.add_kpi(
        key,
        body.key,
        target=body.target,
        name=body.name,
        measure=body.measure,
        direction=body.direction,
        baseline=body.baseline,
        unit=body.unit,
    )
    return info.to_dict()


@router.delete("/initiatives/{key}/kpis/{kpi}", summary="Remove a KPI")
def remove_kpi(ws: WorkspaceDep, user: CurrentUser, key: Key, kpi: Key) -> Done:
    _editable(ws, user, key)
    ws.initiatives.remove_kpi(key, kpi)
    return Done(detail=f"removed KPI {kpi} of {key}")


@router.post("/initiatives/{key}/kpis/{kpi}/values", summary="Report a manual KPI's value")
def report_value(
    ws: WorkspaceDep, user: CurrentUser, key: Key, kpi: Key, body: KpiValueCreate
) -> dict[str, Any]:
    _editable(ws, user, key)
    return ws.initiatives.report(key, kpi, body.value, on=body.on, note=body.note).to_dict()
