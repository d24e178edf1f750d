"""Pulse surveys over HTTP: templates, create, invite, import answers, close, results.

Results are the same anonymised figures the CLI shows (small groups hidden). Surveys are
company-wide: creating, inviting, importing and closing are for admins and users granted the
survey (`tandem users grant EMAIL survey NAME`). Answering is the web form `/s/{token}` (pages).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, status
from pydantic import BaseModel, Field

from tandem.accounts import User
from tandem.collaboration.anonymity import DEFAULT_MIN_GROUP
from tandem.collaboration.surveys import MAX_INVITATIONS, invitation_link
from tandem.collaboration.templates import BUILT_IN
from tandem.server.api.schemas import Schema
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import owned_resource, require

router = APIRouter(tags=["surveys"])

SurveyName = Annotated[str, Field(min_length=1, max_length=64)]
MAX_CSV_BYTES = 20_000_000


class SurveyCreate(Schema):
    name: SurveyName
    template: Literal[BUILT_IN] = BUILT_IN[0]  # type: ignore[valid-type]
    """A built-in template (a template file can be used from the CLI)."""
    title: Annotated[str, Field(max_length=200)] | None = None
    min_group: Annotated[int, Field(ge=1, le=1000)] = DEFAULT_MIN_GROUP


class InvitationCreate(Schema):
    count: Annotated[int, Field(ge=1, le=MAX_INVITATIONS)]


class Invitations(BaseModel):
    survey: str
    links: list[str]
    """Single-use links to the web form, shown this once (only their hashes are stored)."""


def _guard(user: User, name: str) -> None:
    require(user, "edit", owned_resource("survey", name, ()))


@router.get("/surveys/templates", summary="The built-in survey templates")
def templates(ws: WorkspaceDep, _user: CurrentUser) -> list[dict[str, Any]]:
    return ws.surveys.templates()


@router.get("/surveys", summary="Surveys with their status and respondents")
def list_surveys(ws: WorkspaceDep, _user: CurrentUser) -> list[dict[str, Any]]:
    return [s.to_dict() for s in ws.surveys.all()]


@router.post("/surveys", status_code=status.HTTP_201_CREATED, summary="Create an open survey")
def create_survey(ws: WorkspaceDep, user: CurrentUser, body: SurveyCreate) -> dict[str, Any]:
    _guard(user, body.name)
    info = ws.surveys.create(
        body.name, str(body.template), title=body.title, min_group=body.min_group
    )
    return info.to_dict()


@router.get("/surveys/{name}", summary="One survey: questions and respondents per function")
def get_survey(ws: WorkspaceDep, _user: CurrentUser, name: SurveyName) -> dict[str, Any]:
    return ws.surveys.show(name).to_dict()


@router.post("/surveys/{name}/close", summary="Close a survey (no more answers)")
def close_survey(ws: WorkspaceDep, user: CurrentUser, name: SurveyName) -> dict[str, Any]:
    _guard(user, name)
    return ws.surveys.close(name).to_dict()


@router.post(
    "/surveys/{name}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Issue single-use invitation links",
)
def invite(
    request: Request, ws: WorkspaceDep, user: CurrentUser, name: SurveyName, body: InvitationCreate
) -> Invitations:
    _guard(user, name)
    tokens = ws.surveys.invite(name, body.count)
    base = str(request.base_url)
    return Invitations(survey=name, links=[invitation_link(base, t) for t in tokens])


@router.post("/surveys/{name}/responses", summary="Import answers from CSV (all or nothing)")
def import_responses(
    ws: WorkspaceDep,
    user: CurrentUser,
    name: SurveyName,
    csv: Annotated[str, Body(media_type="text/csv", max_length=MAX_CSV_BYTES)],
    skip_invalid: Annotated[bool, Query(description="Import the good rows only.")] = False,
) -> dict[str, Any]:
    _guard(user, name)
    summary = ws.surveys.import_text(name, csv, source="request body", skip_invalid=skip_invalid)
    return summary.to_dict()


@router.get("/surveys/{name}/results", summary="Results with intervals; small groups hidden")
def results(
    ws: WorkspaceDep,
    _user: CurrentUser,
    name: SurveyName,
    by: Literal["function", "seniority"] | None = None,
) -> dict[str, Any]:
    return ws.surveys.results(name, by).to_dict()
