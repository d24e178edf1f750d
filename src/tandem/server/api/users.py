"""Users, their personal API tokens and access grants (admins), and one's own tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from tandem.accounts import User, passwords
from tandem.accounts.service import GrantKind, Role, TokenInfo
from tandem.server.api.schemas import Done, Schema
from tandem.server.deps import AdminUser, CurrentUser, WorkspaceDep

router = APIRouter(tags=["users"])

Email = Annotated[str, Field(min_length=3, max_length=320, examples=["ana@example.com"])]
Password = Annotated[str, Field(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]
Key = Annotated[str, Field(min_length=1, max_length=64)]
TokenName = Annotated[str, Field(min_length=1, max_length=200)]


class GrantPublic(BaseModel):
    kind: str
    key: str


class UserPublic(BaseModel):
    email: str
    role: Role
    function: str | None
    disabled: bool
    created_at: datetime | None
    grants: list[GrantPublic]


class UserCreate(Schema):
    email: Email
    function: Key
    role: Role
    password: Password | None = None
    """Left out: a password is generated and returned once."""


class UserCreated(UserPublic):
    password: str | None
    """The generated password (shown this once), or null when one was given."""


class UserUpdate(Schema):
    role: Role | None = None
    function: Key | None = None
    disabled: bool | None = None
    password: Password | None = None


class TokenPublic(BaseModel):
    id: int
    email: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenCreate(Schema):
    name: TokenName


class TokenCreated(TokenPublic):
    token: str
    """The secret (shown this once): send it as `Authorization: Bearer <token>`."""


class GrantCreate(Schema):
    kind: GrantKind
    key: Key


def user_public(user: User) -> UserPublic:
    return UserPublic(
        email=user.email,
        role=user.role,
        function=user.function,
        disabled=user.disabled,
        created_at=user.created_at,
        grants=[GrantPublic(kind=k, key=key) for k, key in sorted(user.grants)],
    )


def token_public(info: TokenInfo) -> TokenPublic:
    return TokenPublic(**info.to_dict())


# -- users (admins) ------------------------------------------------------------------------------
@router.get("/users", summary="All users (admins)")
def list_users(ws: WorkspaceDep, _admin: AdminUser) -> list[UserPublic]:
    return [user_public(u) for u in ws.accounts.users()]


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Add a user (admins)")
def add_user(ws: WorkspaceDep, _admin: AdminUser, body: UserCreate) -> UserCreated:
    user, generated = ws.accounts.add(
        body.email, function=body.function, role=body.role, password=body.password
    )
    return UserCreated(**user_public(user).model_dump(), password=generated)


@router.get("/users/{email}", summary="One user (admins)")
def get_user(ws: WorkspaceDep, _admin: AdminUser, email: Email) -> UserPublic:
    return user_public(ws.accounts.get(email))


@router.patch("/users/{email}", summary="Change a user's role, function, password (admins)")
def update_user(ws: WorkspaceDep, _admin: AdminUser, email: Email, body: UserUpdate) -> UserPublic:
    return user_public(
        ws.accounts.update(
            email,
            role=body.role,
            function=body.function,
            disabled=body.disabled,
            password=body.password,
        )
    )


@router.delete("/users/{email}", summary="Remove a user and their tokens (admins)")
def remove_user(ws: WorkspaceDep, _admin: AdminUser, email: Email) -> Done:
    ws.accounts.remove(email)
    return Done(detail=f"removed {email}")


@router.post(
    "/users/{email}/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Grant a user edit rights on one resource (admins)",
)
def grant(ws: WorkspaceDep, _admin: AdminUser, email: Email, body: GrantCreate) -> UserPublic:
    return user_public(ws.accounts.grant(email, body.kind, body.key))


@router.delete("/users/{email}/grants/{kind}/{key}", summary="Take a grant back (admins)")
def ungrant(
    ws: WorkspaceDep, _admin: AdminUser, email: Email, kind: GrantKind, key: Key
) -> UserPublic:
    return user_public(ws.accounts.ungrant(email, kind, key))


# -- tokens --------------------------------------------------------------------------------------
@router.get("/tokens", summary="Every user's API tokens (admins)")
def all_tokens(ws: WorkspaceDep, _admin: AdminUser) -> list[TokenPublic]:
    return [token_public(t) for t in ws.accounts.list_tokens()]


@router.get("/me/tokens", summary="My API tokens")
def my_tokens(ws: WorkspaceDep, user: CurrentUser) -> list[TokenPublic]:
    return [token_public(t) for t in ws.accounts.list_tokens(user.email)]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED, summary="Create an API token")
def create_token(ws: WorkspaceDep, user: CurrentUser, body: TokenCreate) -> TokenCreated:
    info, secret = ws.accounts.create_token(user.email, body.name)
    return TokenCreated(**token_public(info).model_dump(), token=secret)


@router.delete("/me/tokens/{name}", summary="Revoke one of my API tokens")
def revoke_token(ws: WorkspaceDep, user: CurrentUser, name: TokenName) -> TokenPublic:
    return token_public(ws.accounts.revoke_token(user.email, name))
