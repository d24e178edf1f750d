"""Customers over HTTP: a unified profile with the reasons behind it, lookup by identifier, and
a paged list.

A profile joins the data of every source a customer was seen in, so it is personal data of all
of them: a caller sees a profile only when the access policy lets them see personal data
(`read_personal`) of EVERY source in it (admins; editors of the digital team; editors of the
functions owning all those sources). Lists and lookups leave out the profiles a caller may not
see, and looking one up answers 404 as for a customer that does not exist: the answer never
tells a caller who is a customer when they may not know.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from tandem.accounts import Forbidden, User
from tandem.customers.profiles import (
    find_customers,
    list_profiles,
    profile_view,
    resolved,
)
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import readable_sources

router = APIRouter(tags=["customers"])

CustomerRef = Annotated[str, Field(min_length=1, max_length=500)]


class ConsentStatement(BaseModel):
    given: bool
    source: str
    at: datetime


class ProfilePublic(BaseModel):
    customer_id: str
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    traits: dict[str, Any]
    """Golden traits: per key, the value of the most trusted, then most recent source."""
    trait_sources: dict[str, str]
    identifiers: dict[str, list[str]]
    sources: list[str]
    records: int
    events: int
    events_by_type: dict[str, int]
    events_by_channel: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None
    orders: int
    revenue: float
    first_order_at: datetime | None
    last_order_at: datetime | None
    recency_days: int | None
    frequency: int
    monetary: float
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm: str | None
    marketing_opt_in: bool | None
    consent: dict[str, ConsentStatement]
    updated_at: datetime


class LinkPublic(BaseModel):
    kind: str
    """identifier (shared by `records` records), match (probabilistic), or ignored."""
    why: str
    id_type: str | None = None
    id_value: str | None = None
    records: int | None = None
    left_source: str | None = None
    left_record_id: str | None = None
    right_source: str | None = None
    right_record_id: str | None = None
    match_weight: float | None = None
    match_probability: float | None = None
    reason: str | None = None


class ExplanationPublic(BaseModel):
    records: list[tuple[str, str]]
    """(source, record id) of every record and message of the customer."""
    links: list[LinkPublic]
    merged_ids: list[str]
    """Older customer ids merged into this one."""


class CustomerPublic(BaseModel):
    customer_id: str
    merged_from: str | None
    """The merged-away id asked for, when it was one."""
    profile: ProfilePublic
    explanation: ExplanationPublic | None
    """Left out with explain=false."""


class CustomerSummary(BaseModel):
    customer_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    sources: list[str]
    events: int
    orders: int
    revenue: float
    rfm: str | None
    last_seen: datetime | None


class CustomerPage(BaseModel):
    total: int
    """Profiles the caller may see (matching the identifier, if one was given)."""
    customers: list[CustomerSummary]


@router.get(
    "/customers/{ref}",
    summary="A customer's profile and why its records are one customer",
    description="`ref` is a customer id, or an identifier (email, phone, user id, "
    "TYPE:VALUE). A merged-away id answers with the customer it was merged into.",
)
def get_customer(
    ws: WorkspaceDep,
    user: CurrentUser,
    ref: CustomerRef,
    explain: Annotated[bool, Query(description="Include the explanation of merges.")] = True,
) -> CustomerPublic:
    view = profile_view(ws, ref, explain=explain, readable_sources=readable_sources(ws, user))
    return CustomerPublic.model_validate(view)


@router.get("/customers", summary="Profiles you may see, by identifier or page by page")
def list_customers(
    ws: WorkspaceDep,
    user: CurrentUser,
    identifier: Annotated[
        str | None,
        Query(max_length=500, description="Only customers holding this identifier."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> CustomerPage:
    lake = ws.lake
    if not resolved(lake):
        return CustomerPage(total=0, customers=[])
    ids = None
    if identifier is not None:
        region = ws.settings.identity.default_region
        ids = find_customers(lake, identifier, region=region).customer_ids
    total, rows = list_profiles(
        lake,
        readable_sources=readable_sources(ws, user),
        customer_ids=ids,
        limit=limit,
        offset=offset,
    )
    return CustomerPage(total=total, customers=[CustomerSummary(**row) for row in rows])


# -- resolution, identities, erasure: the API face of `tandem resolve`, `tandem identities
# export` and `tandem forget` -----------------------------------------------------------------
def _admin(user: User, what: str) -> None:
    if not user.is_admin:
        raise Forbidden(
            f"{user.email} is not an admin",
            detail=f"only admins {what}: it reads or changes every customer's data",
        )


@router.post(
    "/resolve",
    summary="Resolve identities into customers and rebuild the profiles (admins)",
    description="The same run as `tandem resolve`; answers with its counts when it has "
    "finished. 409 when a resolution or an erasure is already running.",
)
def run_resolution(ws: WorkspaceDep, user: CurrentUser) -> dict[str, Any]:
    from tandem.customers.resolve import resolve

    _admin(user, "run identity resolution")
    return resolve(ws).to_dict()


@router.get(
    "/identities/export",
    summary="Which customer each source record belongs to, as a file",
    description="`source, record_id, customer_id`, one row per record, of the sources whose "
    "customer data you may see (as `tandem identities export`).",
    response_class=FileResponse,
)
def export_identities_file(
    ws: WorkspaceDep,
    user: CurrentUser,
    format: Annotated[Literal["csv", "parquet"], Query(description="File format.")] = "csv",
) -> FileResponse:
    from tandem.customers.identity import export_identities

    sources = readable_sources(ws, user, "read_data")
    folder = Path(tempfile.mkdtemp(prefix="tandem-identities-"))
    out = folder / f"identities.{format}"

    def cleanup() -> None:
        out.unlink(missing_ok=True)
        os.rmdir(folder)

    try:
        export_identities(ws.lake, out, sources=sources)
    except BaseException:
        cleanup()
        raise
    media = "text/csv" if format == "csv" else "application/vnd.apache.parquet"
    return FileResponse(
        out, media_type=media, filename=out.name, background=BackgroundTask(cleanup)
    )


class ForgetRequest(BaseModel):
    identifier: CustomerRef
    """Email, phone, user id, TYPE:VALUE or customer id of the person to erase."""
    confirm: bool = False
    """False: only say what would be erased (counts). True: erase it."""
    vacuum: bool = False
    """Also delete the old data files at once (no time travel to before the erasure)."""


@router.post(
    "/forget",
    summary="Erase a person from every lake table (right to be forgotten; admins)",
    description="Without `confirm` the answer is the plan (counts only); with it, the erasure "
    "(rows deleted per table) and the id of its log entry, which holds no personal data. "
    "404 when nothing carries the identifier; 409 while a resolution runs.",
)
def forget_person(ws: WorkspaceDep, user: CurrentUser, body: ForgetRequest) -> dict[str, Any]:
    from tandem.customers.forget import forget, plan_forget

    _admin(user, "erase people")
    plan = plan_forget(ws, body.identifier)
    if not body.confirm:
        return {"erased": False, "plan": plan.summary()}
    result = forget(ws, plan, requested_by=user.email, vacuum=body.vacuum)
    return {"erased": True, "plan": plan.summary(), **result.to_dict()}
