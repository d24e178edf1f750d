"""The ownership model over HTTP: functions, people, capabilities, RACI, governance, analyses.

Reads are open to every signed-in user; changes follow the access policy (`server/policy.py`):
a responsibility row is changed by editors whose function holds R or A on the capability, by the
digital team, by a grant, and by admins; the model's structure (functions, capabilities,
governance, import) by admins (or a `model` grant).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from tandem.ownership.catalogue import RACI
from tandem.ownership.model import apply_model, load_model
from tandem.ownership.modelfile import check_model_file, model_to_dict
from tandem.server.api.schemas import Done, Schema
from tandem.server.deps import CurrentUser, WorkspaceDep
from tandem.server.policy import MODEL, capability_resource, function_resource, require
from tandem.workspace import Workspace
from tandem.yamlfile import YamlDocument

router = APIRouter(tags=["ownership"])

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]
Roles = Annotated[str, Field(min_length=1, max_length=8, examples=["RA"])]
MAX_IMPORT_BYTES = 2_000_000


# -- schemas -------------------------------------------------------------------------------------
class CompanyPublic(BaseModel):
    name: str
    industry: str | None
    employees: int | None
    digital_revenue_team: bool | None


class CompanyUpdate(Schema):
    name: Name | None = None
    industry: Annotated[str, Field(max_length=200)] | None = None
    employees: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    digital_revenue_team: bool | None = None


class PersonPublic(BaseModel):
    name: str
    title: str
    email: str | None
    head: bool


class PersonCreate(Schema):
    name: Name
    title: Annotated[str, Field(max_length=200)] = ""
    email: Annotated[str, Field(max_length=320)] | None = None
    head: bool = False


class FunctionPublic(BaseModel):
    key: str
    name: str
    kind: str
    description: str
    head: str | None
    people: list[PersonPublic]


class FunctionCreate(Schema):
    name: Name
    key: Key | None = None
    kind: str = "other"
    description: Description = ""


class FunctionUpdate(Schema):
    name: Name | None = None
    key: Key | None = None


class CapabilityPublic(BaseModel):
    key: str
    name: str
    description: str
    customer_facing: bool
    roles: dict[str, str]
    """function key -> RACI letters ("RA")."""


class CapabilityCreate(Schema):
    name: Name
    key: Key | None = None
    description: Description = ""
    customer_facing: bool = False


class ResponsibilityUpdate(Schema):
    roles: Roles
    """RACI letters to give the function on the capability (added to what it holds)."""


class ResponsibilityPublic(BaseModel):
    capability: str
    function: str
    roles: str
    """The letters the function holds on the capability now ("" when none)."""


class BodyPublic(BaseModel):
    key: str
    name: str
    kind: str
    description: str
    members: list[str]
    reports_to: list[str]


class BodyCreate(Schema):
    name: Name
    kind: str
    key: Key | None = None
    members: Annotated[list[Key], Field(default_factory=list, max_length=100)]
    reports_to: Annotated[list[Key], Field(default_factory=list, max_length=100)]
    description: Description = ""


class MatrixPublic(BaseModel):
    functions: list[dict[str, str]]
    capabilities: list[CapabilityPublic]


class ImportSummary(BaseModel):
    summary: dict[str, Any]


# -- helpers -------------------------------------------------------------------------------------
def _capability(ws: Workspace, key: str) -> CapabilityPublic:
    from tandem.errors import NotFound

    cap = ws.ownership.model().capability(key)
    if cap is None:
        raise NotFound(f"no capability `{key}`", field="capability")
    return CapabilityPublic(
        key=cap.key,
        name=cap.name,
        description=cap.description,
        customer_facing=cap.customer_facing,
        roles=dict(cap.owners),
    )


def _capabilities(ws: Workspace) -> list[CapabilityPublic]:
    return [
        CapabilityPublic(
            key=c.key,
            name=c.name,
            description=c.description,
            customer_facing=c.customer_facing,
            roles=dict(c.owners),
        )
        for c in ws.ownership.model().capabilities
    ]


def _functions(ws: Workspace) -> list[FunctionPublic]:
    return [
        FunctionPublic(
            key=f.key,
            name=f.name,
            kind=f.kind,
            description=f.description,
            head=f.head,
            people=[
                PersonPublic(name=p.name, title=p.title, email=p.email, head=p.name == f.head)
                for p in f.people
            ],
        )
        for f in ws.ownership.model().functions
    ]


def _function(ws: Workspace, key: str) -> FunctionPublic:
    from tandem.errors import NotFound

    found = next((f for f in _functions(ws) if f.key == key), None)
    if found is None:
        raise NotFound(f"no function `{key}`", field="function")
    return found


# -- the model and its analyses ------------------------------------------------------------------
@router.get("/ownership/model", summary="The whole ownership model (the YAML file's content)")
def get_model(ws: WorkspaceDep, _user: CurrentUser) -> dict[str, Any]:
    return model_to_dict(ws.ownership.model())


@router.get("/ownership/matrix", summary="Capabilities x functions with RACI letters")
def get_matrix(ws: WorkspaceDep, _user: CurrentUser) -> MatrixPublic:
    model = ws.ownership.model()
    return MatrixPublic(
        functions=ws.ownership.matrix_of(model).functions,
        capabilities=_capabilities(ws),
    )


@router.get("/ownership/benchmark", summary="The ownership compared with Forrester 2014")
def get_benchmark(ws: WorkspaceDep, _user: CurrentUser) -> dict[str, Any]:
    return ws.ownership.benchmark().to_dict()


@router.get("/ownership/findings", summary="What is missing in the ownership, and why")
def get_findings(ws: WorkspaceDep, _user: CurrentUser) -> list[dict[str, Any]]:
    return [f.to_dict() for f in ws.ownership.findings()]


@router.get(
    "/ownership/export",
    summary="The ownership model as a YAML file",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_model(ws: WorkspaceDep, _user: CurrentUser) -> PlainTextResponse:
    return PlainTextResponse(ws.ownership.export(), media_type="application/yaml")


@router.post("/ownership/import", summary="Import an ownership YAML file (all or nothing)")
def import_model(
    ws: WorkspaceDep,
    user: CurrentUser,
    document: Annotated[str, Body(media_type="application/yaml", max_length=MAX_IMPORT_BYTES)],
    merge: Annotated[bool, Query(description="Add and update only; remove nothing.")] = False,
) -> ImportSummary:
    require(user, "edit", MODEL)
    parsed = YamlDocument.parse(document, source="request body")
    with ws.session() as s:
        change = check_model_file(parsed, load_model(s), merge=merge)
        summary = apply_model(s, change, replace=not merge)
    return ImportSummary(summary=summary.to_dict())


# -- company -------------------------------------------------------------------------------------
@router.get("/company", summary="The company the workspace describes")
def get_company(ws: WorkspaceDep, _user: CurrentUser) -> CompanyPublic:
    company = ws.ownership.model().company
    return CompanyPublic(
        name=company.name if company else ws.settings.name,
        industry=company.industry if company else None,
        employees=company.employees if company else None,
        digital_revenue_team=company.digital_revenue_team if company else None,
    )


@router.patch("/company", summary="Change the company's name, industry, size")
def update_company(ws: WorkspaceDep, user: CurrentUser, body: CompanyUpdate) -> CompanyPublic:
    require(user, "edit", MODEL)
    ws.ownership.set_company(
        name=body.name,
        industry=body.industry,
        employees=body.employees,
        digital_revenue_team=body.digital_revenue_team,
    )
    return get_company(ws, user)


# -- functions and people ------------------------------------------------------------------------
@router.get("/functions", summary="Functions with their people")
def list_functions(ws: WorkspaceDep, _user: CurrentUser) -> list[FunctionPublic]:
    return _functions(ws)


@router.post("/functions", status_code=status.HTTP_201_CREATED, summary="Add a function")
def add_function(ws: WorkspaceDep, user: CurrentUser, body: FunctionCreate) -> FunctionPublic:
    require(user, "edit", MODEL)
    key = ws.ownership.add_function(
        body.name, key=body.key, kind=body.kind, description=body.description
    )
    return _function(ws, key)


@router.get("/functions/{key}", summary="One function with its people")
def get_function(ws: WorkspaceDep, _user: CurrentUser, key: Key) -> FunctionPublic:
    return _function(ws, key)


@router.patch("/functions/{key}", summary="Rename a function or change its key")
def update_function(
    ws: WorkspaceDep, user: CurrentUser, key: Key, body: FunctionUpdate
) -> FunctionPublic:
    require(user, "edit", MODEL)
    new_key = ws.ownership.rename_function(key, name=body.name, new_key=body.key)
    return _function(ws, new_key)


@router.delete("/functions/{key}", summary="Remove a function and its responsibilities")
def remove_function(ws: WorkspaceDep, user: CurrentUser, key: Key) -> Done:
    require(user, "edit", MODEL)
    dropped = ws.ownership.remove_function(key)
    return Done(detail=f"removed {key} and {dropped} responsibilities")


@router.post(
    "/functions/{key}/people",
    status_code=status.HTTP_201_CREATED,
    summary="Add a person to a function",
)
def add_person(ws: WorkspaceDep, user: CurrentUser, key: Key, body: PersonCreate) -> FunctionPublic:
    require(user, "edit", function_resource(key))
    ws.ownership.add_person(key, body.name, title=body.title, email=body.email, head=body.head)
    return _function(ws, key)


@router.delete("/functions/{key}/people/{name}", summary="Remove a person from a function")
def remove_person(ws: WorkspaceDep, user: CurrentUser, key: Key, name: Name) -> FunctionPublic:
    require(user, "edit", function_resource(key))
    ws.ownership.remove_person(key, name)
    return _function(ws, key)


# -- capabilities and responsibilities -----------------------------------------------------------
@router.get("/capabilities", summary="Capabilities with who holds which RACI role")
def list_capabilities(ws: WorkspaceDep, _user: CurrentUser) -> list[CapabilityPublic]:
    return _capabilities(ws)


@router.post("/capabilities", status_code=status.HTTP_201_CREATED, summary="Add a capability")
def add_capability(ws: WorkspaceDep, user: CurrentUser, body: CapabilityCreate) -> CapabilityPublic:
    require(user, "edit", MODEL)
    key = ws.ownership.add_capability(
        body.name, key=body.key, description=body.description, customer_facing=body.customer_facing
    )
    return _capability(ws, key)


@router.get("/capabilities/{key}", summary="One capability")
def get_capability(ws: WorkspaceDep, _user: CurrentUser, key: Key) -> CapabilityPublic:
    return _capability(ws, key)


@router.delete("/capabilities/{key}", summary="Remove a capability")
def remove_capability(ws: WorkspaceDep, user: CurrentUser, key: Key) -> Done:
    require(user, "edit", MODEL)
    ws.ownership.remove_capability(key)
    return Done(detail=f"removed {key}")


@router.put(
    "/capabilities/{key}/responsibilities/{function}",
    summary="Give a function RACI roles on a capability",
)
def assign(
    ws: WorkspaceDep, user: CurrentUser, key: Key, function: Key, body: ResponsibilityUpdate
) -> ResponsibilityPublic:
    require(user, "edit", capability_resource(key, _capability(ws, key).roles))
    roles = ws.ownership.assign(key, function, body.roles)
    return ResponsibilityPublic(capability=key, function=function, roles=roles)


@router.delete(
    "/capabilities/{key}/responsibilities/{function}",
    summary="Take RACI roles (all when none are given) from a function on a capability",
)
def unassign(
    ws: WorkspaceDep,
    user: CurrentUser,
    key: Key,
    function: Key,
    roles: Annotated[str | None, Query(max_length=8, examples=[RACI])] = None,
) -> ResponsibilityPublic:
    require(user, "edit", capability_resource(key, _capability(ws, key).roles))
    left = ws.ownership.unassign(key, function, roles)
    return ResponsibilityPublic(capability=key, function=function, roles=left)


# -- governance ----------------------------------------------------------------------------------
@router.get("/governance", summary="Governance bodies: members and reporting lines")
def list_bodies(ws: WorkspaceDep, _user: CurrentUser) -> list[BodyPublic]:
    return [
        BodyPublic(
            key=b.key,
            name=b.name,
            kind=b.kind,
            description=b.description,
            members=list(b.members),
            reports_to=list(b.reports_to),
        )
        for b in ws.ownership.model().bodies
    ]


@router.post("/governance", status_code=status.HTTP_201_CREATED, summary="Add a governance body")
def add_body(ws: WorkspaceDep, user: CurrentUser, body: BodyCreate) -> BodyPublic:
    require(user, "edit", MODEL)
    key = ws.ownership.add_body(
        body.name,
        kind=body.kind,
        key=body.key,
        members=body.members,
        reports_to=body.reports_to,
        description=body.description,
    )
    return next(b for b in list_bodies(ws, user) if b.key == key)


@router.delete("/governance/{key}", summary="Remove a governance body")
def remove_body(ws: WorkspaceDep, user: CurrentUser, key: Key) -> Done:
    require(user, "edit", MODEL)
    ws.ownership.remove_body(key)
    return Done(detail=f"removed {key}")
