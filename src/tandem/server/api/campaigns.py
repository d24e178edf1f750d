"""/api/campaigns: campaigns with hold-out groups, their assignment, exposures and lift.

Definitions and results (aggregates) are read by every signed-in user; creating a campaign and
assigning, importing or recording its exposures is editing, allowed to editors of its owning
functions, grants and admins; per-customer lists (assignments) are customer data (`read_data`).
The same domain functions as `tandem campaign ...`, with the same validation.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa  # type: ignore[import-untyped]
from fastapi import APIRouter, Body, Query, Request, status
from pydantic import Field
from starlette.datastructures import UploadFile

from tandem.accounts import User
from tandem.campaigns.definition import SLUG_PATTERN, CampaignDefinition, parse_definition
from tandem.customers.segments import require_access
from tandem.errors import InvalidValue
from tandem.server.api.schemas import Schema
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import can, owned_resource, require
from tandem.workspace import Workspace

router = APIRouter(tags=["campaigns"])

Name = Annotated[str, Field(pattern=SLUG_PATTERN)]
"""A campaign name is a slug; anything else is a 422 naming the path parameter."""
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_JSON_ROWS = 100_000


class AssignRequest(Schema):
    evaluate: bool = False
    """Evaluate the target segment first (otherwise its latest evaluation is used)."""
    at: datetime | None = None
    """When new customers count as assigned (now by default)."""


class ImportRows(Schema):
    rows: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_JSON_ROWS)]
    """Each row: `arm` and one of customer_id, record_id, identifier, email, phone, user_id."""


def _resource(definition: CampaignDefinition) -> Any:
    return owned_resource("campaign", definition.name, definition.owners)


def _definition(ws: Workspace, name: str) -> CampaignDefinition:
    return ws.campaigns.get(name).definition


def _editable(ws: Workspace, user: User, name: str) -> CampaignDefinition:
    d = _definition(ws, name)
    require(user, "edit", _resource(d))
    return d


@router.get("/campaigns", summary="Campaigns with their target, arms and metrics")
def list_campaigns(ws: WorkspaceDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [
        i.to_dict(customers=can(user, "read_data", _resource(i.definition)))
        for i in ws.campaigns.list()
    ]


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, summary="Create a campaign")
def create_campaign(
    ws: WorkspaceDep,
    user: CurrentUser,
    body: Annotated[dict[str, Any], Body(description="The campaign definition (as the YAML file)")],
) -> dict[str, Any]:
    definition = parse_definition(body, source="request body")
    require(user, "edit", _resource(definition))
    return ws.campaigns.create(definition, user=user).to_dict(customers=True)


@router.get("/campaigns/{name}", summary="One campaign and its customers per arm")
def get_campaign(ws: WorkspaceDep, user: CurrentUser, name: Name) -> dict[str, Any]:
    info = ws.campaigns.get(name)
    data = info.to_dict(customers=can(user, "read_data", _resource(info.definition)))
    data["assigned"] = ws.campaigns.assignment_counts(info.definition)
    return data


@router.post("/campaigns/{name}/assign", summary="Assign the target's customers to arms")
def assign(
    ws: WorkspaceDep, user: CurrentUser, name: Name, body: AssignRequest | None = None
) -> dict[str, Any]:
    segment = _editable(ws, user, name).segment
    body = body or AssignRequest()
    if body.evaluate and segment is not None:  # a new evaluation of the segment is its edit
        info = ws.segments.get(segment, history=False)
        require_access(user, "edit", info.name, info.owners)
    return ws.campaigns.assign(name, at=body.at, evaluate=body.evaluate).to_dict()


@router.post(
    "/campaigns/{name}/assignments",
    summary="Import assignments made elsewhere (CSV/Parquet upload or JSON rows)",
)
async def import_assignments(
    ws: WorkspaceDep, user: CurrentUser, name: Name, request: Request
) -> dict[str, Any]:
    """Send `multipart/form-data` with a `file` (.csv with a header, or .parquet), or JSON
    `{"rows": [{"customer_id": "cus_...", "arm": "control"}, ...]}`."""
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(_editable, ws, user, name)
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        async with request.form(max_part_size=MAX_UPLOAD_BYTES) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidValue("send the assignments as a form field `file`", field="file")
            suffix = Path(upload.filename or "").suffix.lower()
            if suffix not in (".csv", ".parquet"):
                raise InvalidValue(
                    f"the file `{upload.filename}` is neither .csv nor .parquet", field="file"
                )
            content = await upload.read()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"assignments{suffix}"
            path.write_bytes(content)
            summary = await run_in_threadpool(ws.campaigns.import_assignments, name, path)
        return summary.to_dict()
    try:
        payload = ImportRows.model_validate_json(await request.body())
    except ValueError as exc:
        raise InvalidValue(
            'send JSON {"rows": [{"customer_id": ..., "arm": ...}, ...]} or a file upload',
            field="rows",
            detail=str(exc).splitlines()[0],
        ) from None
    columns = sorted({k for row in payload.rows for k in row})
    table = pa.table(
        {c: pa.array([_text(row.get(c)) for row in payload.rows], pa.string()) for c in columns}
    )
    summary = await run_in_threadpool(ws.campaigns.import_assignments, name, table)
    return summary.to_dict()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise InvalidValue("row values must be text or numbers", field="rows")


@router.get("/campaigns/{name}/assignments", summary="The customers of each arm (customer data)")
def list_assignments(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: Name,
    arm: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    d = _definition(ws, name)
    require(user, "read_data", _resource(d))
    table = ws.campaigns.assignments(name)
    if arm is not None:
        table = table.filter(table.arm == arm)
    total = int(ws.lake.con.to_pyarrow(table.count()).as_py())
    page = ws.lake.con.to_pyarrow(
        table.order_by("customer_id").limit(limit, offset=offset)
    ).to_pylist()
    for row in page:
        row["assigned_at"] = row["assigned_at"].isoformat()
    return {"campaign": d.name, "total": total, "offset": offset, "assignments": page}


@router.post("/campaigns/{name}/exposures", summary="Record exposures from exposure events")
def record_exposures(ws: WorkspaceDep, user: CurrentUser, name: Name) -> dict[str, Any]:
    _editable(ws, user, name)
    counts = ws.campaigns.record_exposures(name)
    return {
        "campaign": name,
        "exposures": counts,
        "customers_by_arm": ws.campaigns.exposure_counts(name),
    }


@router.get("/campaigns/{name}/results", summary="Lift per treatment arm and metric, SRM check")
def results(
    ws: WorkspaceDep,
    _user: CurrentUser,
    name: Name,
    by: Annotated[str | None, Query(max_length=200)] = None,
    sequential: bool = False,
    exposed_only: bool = False,
    bins: Annotated[int, Query(ge=2, le=20)] = 4,
    edges: Annotated[list[float] | None, Query(max_length=50)] = None,
    min_bucket: Annotated[int, Query(ge=1, le=1_000_000)] = 30,
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if by is not None:
        options = {"bins": bins, "edges": edges, "min_bucket": min_bucket}
    return ws.campaigns.results(
        name, by=by, sequential=sequential, exposed_only=exposed_only, **options
    ).to_dict()
