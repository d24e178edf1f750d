"""Customer-data sources over HTTP: list, show, add, owners, rotate the write key, remove, and
event counts per source (only for sources whose data the caller may see).

A source's description (name, kind, owners) is visible to every signed-in user; its data is
visible to its owning functions, the digital team and admins, and an `hr` source's data to HR
(its owners) and admins only (see `server/policy.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from tandem.accounts import User
from tandem.customers.sources import SourceInfo
from tandem.server.api.schemas import Done, Schema
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import can, require, source_resource
from tandem.workspace import Workspace

router = APIRouter(tags=["sources"])

SourceName = Annotated[str, Field(min_length=1, max_length=64)]
FunctionKey = Annotated[str, Field(min_length=1, max_length=64)]


class SourcePublic(BaseModel):
    name: str
    kind: str
    owners: list[str]
    created_at: datetime
    rotated_at: datetime | None
    key_hint: str
    data_visible: bool
    """Whether the caller may see this source's customer data."""


class SourceCreate(Schema):
    name: SourceName
    kind: Annotated[str, Field(min_length=1, max_length=32)]
    owners: Annotated[list[FunctionKey], Field(min_length=1, max_length=50)]


class SourceOwners(Schema):
    owners: Annotated[list[FunctionKey], Field(min_length=1, max_length=50)]


class SourceWithKey(SourcePublic):
    write_key: str
    """The write key in clear, shown this once: the HTTP Basic user of POST /v1/..."""


class SourceCount(BaseModel):
    source: str
    kind: str
    data_visible: bool
    events: int | None
    """Stored events (deduplicated); null when the caller may not see this source's data."""


def _public(info: SourceInfo, visible: bool) -> SourcePublic:
    return SourcePublic(
        name=info.name,
        kind=info.kind,
        owners=list(info.owners),
        created_at=info.created_at,
        rotated_at=info.rotated_at,
        key_hint=info.key_hint,
        data_visible=visible,
    )


def _visible(user: User, info: SourceInfo) -> bool:
    return can(user, "read_data", source_resource(info.name, info.kind, info.owners))


def _editable(ws: Workspace, user: User, name: str) -> SourceInfo:
    info = ws.sources.get(name)
    require(user, "edit", source_resource(info.name, info.kind, info.owners))
    return info


@router.get("/sources", summary="Sources with their kind and owning functions")
def list_sources(ws: WorkspaceDep, user: CurrentUser) -> list[SourcePublic]:
    return [_public(i, _visible(user, i)) for i in ws.sources.list()]


@router.get("/sources/counts", summary="Stored events per source (where the data is visible)")
def source_counts(ws: WorkspaceDep, user: CurrentUser) -> list[SourceCount]:
    infos = ws.sources.list()
    visible = {i.name for i in infos if _visible(user, i)}
    counts: dict[str, int] = {}
    if visible:
        events = ws.lake.events()
        events = events.filter(events.source.isin(sorted(visible)))
        frame = events.group_by(events.source).aggregate(events=events.count()).to_pyarrow()
        counts = dict(zip(frame["source"].to_pylist(), frame["events"].to_pylist(), strict=True))
    return [
        SourceCount(
            source=i.name,
            kind=i.kind,
            data_visible=i.name in visible,
            events=int(counts.get(i.name, 0)) if i.name in visible else None,
        )
        for i in infos
    ]


@router.get("/sources/{name}", summary="One source")
def get_source(ws: WorkspaceDep, user: CurrentUser, name: SourceName) -> SourcePublic:
    info = ws.sources.get(name)
    return _public(info, _visible(user, info))


@router.post(
    "/sources",
    status_code=status.HTTP_201_CREATED,
    summary="Add a source (its owners must include your function unless you are an admin)",
)
def add_source(ws: WorkspaceDep, user: CurrentUser, body: SourceCreate) -> SourceWithKey:
    require(user, "edit", source_resource(body.name, body.kind, body.owners))
    info, write_key = ws.sources.add(body.name, kind=body.kind, owners=body.owners)
    return SourceWithKey(**_public(info, _visible(user, info)).model_dump(), write_key=write_key)


@router.put("/sources/{name}/owners", summary="Replace a source's owning functions")
def set_owners(
    ws: WorkspaceDep, user: CurrentUser, name: SourceName, body: SourceOwners
) -> SourcePublic:
    _editable(ws, user, name)
    info = ws.sources.set_owners(name, body.owners)
    return _public(info, _visible(user, info))


@router.post("/sources/{name}/rotate-key", summary="Give a source a new write key")
def rotate_key(ws: WorkspaceDep, user: CurrentUser, name: SourceName) -> SourceWithKey:
    _editable(ws, user, name)
    write_key = ws.sources.rotate_key(name)
    info = ws.sources.get(name)
    return SourceWithKey(**_public(info, _visible(user, info)).model_dump(), write_key=write_key)


@router.delete(
    "/sources/{name}",
    summary="Remove a source (refused while the lake holds its rows, unless force=true)",
)
def remove_source(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: SourceName,
    force: Annotated[
        bool, Query(description="Remove it even though the lake holds its rows (they stay).")
    ] = False,
) -> Done:
    _editable(ws, user, name)
    stored = ws.sources.remove(name, force=force)
    return Done(detail=f"removed source {name} ({stored:,} rows stay in the lake)")
