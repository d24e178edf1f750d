"""Accounts on a workspace: users, personal API tokens and access grants (`workspace.accounts`).

The CLI (`tandem users ...`) and the HTTP API call these functions; the server's sign-in and token
checks do too. Secrets never come back out: passwords are argon2 hashes, tokens SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tandem.accounts import passwords
from tandem.accounts import tokens as _tokens
from tandem.accounts.errors import NotAuthenticated
from tandem.db.models import AccessGrant, ApiToken, Capability, Function, Source, UserAccount
from tandem.db.models.base import utcnow
from tandem.errors import Conflict, InvalidValue, NotFound
from tandem.times import as_utc

if TYPE_CHECKING:
    from tandem.workspace import Workspace

Role = Literal["admin", "editor", "viewer"]
ROLES: Final[tuple[str, ...]] = get_args(Role)

GrantKind = Literal[
    "model", "function", "capability", "source", "survey", "initiative", "segment", "campaign"
]
GRANT_KINDS: Final[tuple[str, ...]] = get_args(GrantKind)
"""What an admin can grant a user: edit rights (and data access) on one resource by key."""

WRONG_CREDENTIALS: Final = "email or password is wrong"
TOKEN_TOUCH_INTERVAL: Final = timedelta(minutes=1)
"""`last_used_at` of a token is written at most this often (not on every request)."""

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidValue(f"`{email.strip()}` is not an email address", field="email")
    return value


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidValue(
            f"unknown role `{role}`", field="role", detail=f"use one of {', '.join(ROLES)}"
        )
    return role  # type: ignore[return-value]


@dataclass(frozen=True)
class User:
    """A signed-in user as the server and policy see it (a snapshot, not a database row)."""

    id: int
    email: str
    role: Role
    function: str | None
    function_kind: str | None
    disabled: bool = False
    created_at: datetime | None = None
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    credential_tag: str = ""
    """Changes when the password changes: a session made before that stops working."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "role": self.role,
            "function": self.function,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "grants": [{"kind": k, "key": key} for k, key in sorted(self.grants)],
        }


@dataclass(frozen=True)
class TokenInfo:
    """A personal API token as listed (never the secret itself)."""

    id: int
    email: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
            "active": self.active,
        }


def _snapshot(row: UserAccount) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=check_role(row.role),
        function=row.function.key if row.function else None,
        function_kind=row.function.kind if row.function else None,
        disabled=row.disabled,
        created_at=as_utc(row.created_at),
        grants=frozenset((g.resource_kind, g.resource_key) for g in row.grants),
        credential_tag=hashlib.sha256(row.password_hash.encode()).hexdigest()[:16],
    )


def _token_info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        email=row.user.email,
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
    )


def _token_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidValue("a token needs a name (what script or machine uses it)", field="name")
    if len(name) > 200:
        raise InvalidValue("the token name is too long (at most 200 characters)", field="name")
    return name


class Accounts:
    """Users, tokens and grants of one workspace."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace

    # -- lookups -----------------------------------------------------------------------------
    @staticmethod
    def _query() -> Any:
        return select(UserAccount).options(
            joinedload(UserAccount.function), selectinload(UserAccount.grants)
        )

    def _row(self, s: Session, email: str) -> UserAccount:
        row = s.scalars(self._query().where(UserAccount.email == normalise_email(email))).first()
        if row is None:
            raise NotFound(
                f"no user `{email.strip()}`; `tandem users list` shows them", field="email"
            )
        return row  # type: ignore[no-any-return]

    @staticmethod
    def _function(s: Session, key: str) -> Function:
        row = s.scalars(select(Function).where(Function.key == key)).first()
        if row is None:
            known = ", ".join(s.scalars(select(Function.key).order_by(Function.position)))
            raise NotFound(f"no function `{key}` (known: {known or 'none'})", field="function")
        return row

    def get(self, email: str) -> User:
        with self.ws.session() as s:
            return _snapshot(self._row(s, email))

    def by_id(self, user_id: int) -> User | None:
        """The user with this id, or None when it was removed."""
        with self.ws.session() as s:
            row = s.scalars(self._query().where(UserAccount.id == user_id)).first()
            return _snapshot(row) if row is not None else None

    def users(self) -> list[User]:
        with self.ws.session() as s:
            return [_snapshot(r) for r in s.scalars(self._query().order_by(UserAccount.email))]

    def count(self) -> int:
        with self.ws.session() as s:
            return s.scalar(select(func.count()).select_from(UserAccount)) or 0

    # -- changes -----------------------------------------------------------------------------
    def add(
        self, email: str, *, function: str, role: str, password: str | None = None
    ) -> tuple[User, str | None]:
        """Create a user; returns it and the generated password when none was given."""
        email = normalise_email(email)
        check_role(role)
        generated = None
        if password is None:
            password = generated = passwords.generate()
        passwords.check_strength(password)
        with self.ws.session() as s:
            fn = self._function(s, function)
            if s.scalar(select(UserAccount.id).where(UserAccount.email == email)) is not None:
                raise Conflict(f"a user `{email}` already exists", field="email")
            row = UserAccount(
                email=email,
                function=fn,
                role=role,
                password_hash=passwords.hash_password(password),
                disabled=False,
            )
            s.add(row)
            s.flush()
            return _snapshot(row), generated

    def remove(self, email: str) -> None:
        with self.ws.session() as s:
            row = self._row(s, email)
            self._keep_an_admin(s, row, losing=True)
            s.delete(row)

    def update(
        self,
        email: str,
        *,
        role: str | None = None,
        function: str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user's role, function, disabled flag or password."""
        if role is not None:
            check_role(role)
        if password is not None:
            passwords.check_strength(password)
        with self.ws.session() as s:
            row = self._row(s, email)
            losing = (role is not None and role != "admin") or bool(disabled)
            if losing:
                self._keep_an_admin(s, row, losing=True)
            if role is not None:
                row.role = role
            if function is not None:
                row.function = self._function(s, function)
            if disabled is not None:
                row.disabled = disabled
            if password is not None:
                row.password_hash = passwords.hash_password(password)
            s.flush()
            return _snapshot(row)

    @staticmethod
    def _keep_an_admin(s: Session, row: UserAccount, *, losing: bool) -> None:
        """Refuse to remove, demote or disable the last enabled admin."""
        if not losing or row.role != "admin" or row.disabled:
            return
        others = s.scalar(
            select(func.count())
            .select_from(UserAccount)
            .where(
                UserAccount.role == "admin",
                UserAccount.disabled.is_(False),
                UserAccount.id != row.id,
            )
        )
        if not others:
            raise Conflict(
                f"{row.email} is the last admin; make another user admin first", field="email"
            )

    # -- signing in --------------------------------------------------------------------------
    def authenticate(self, email: str, password: str) -> User:
        """The user when `password` is theirs; NotAuthenticated (one generic message) otherwise.

        An unknown email costs one argon2 verification too, so timing does not reveal accounts.
        """
        try:
            address = normalise_email(email)
        except InvalidValue:
            address = None
        with self.ws.session() as s:
            row = (
                s.scalars(self._query().where(UserAccount.email == address)).first()
                if address
                else None
            )
            ok = passwords.verify(row.password_hash if row else None, password)
            if row is None or not ok or row.disabled:
                raise NotAuthenticated(WRONG_CREDENTIALS)
            if passwords.needs_rehash(row.password_hash):
                row.password_hash = passwords.hash_password(password)
            return _snapshot(row)

    # -- tokens ------------------------------------------------------------------------------
    def create_token(self, email: str, name: str) -> tuple[TokenInfo, str]:
        """A new personal token for `email`; the secret is returned once and never stored."""
        name = _token_name(name)
        secret = _tokens.new_token()
        with self.ws.session() as s:
            user = self._row(s, email)
            clash = s.scalar(
                select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == name)
            )
            if clash is not None:
                raise Conflict(f"{user.email} already has a token named `{name}`", field="name")
            row = ApiToken(
                user=user,
                name=name,
                token_hash=_tokens.digest(secret),
                prefix=_tokens.display_prefix(secret),
            )
            s.add(row)
            s.flush()
            return _token_info(row), secret

    def list_tokens(self, email: str | None = None) -> list[TokenInfo]:
        with self.ws.session() as s:
            query = (
                select(ApiToken)
                .join(ApiToken.user)
                .options(selectinload(ApiToken.user))
                .order_by(UserAccount.email, ApiToken.id)
            )
            if email is not None:
                query = query.where(ApiToken.user_id == self._row(s, email).id)
            return [_token_info(r) for r in s.scalars(query)]

    def revoke_token(self, email: str, name: str) -> TokenInfo:
        with self.ws.session() as s:
            user = self._row(s, email)
            row = s.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name.strip())
            ).first()
            if row is None:
                raise NotFound(f"{user.email} has no token named `{name}`", field="name")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            s.flush()
            return _token_info(row)

    def user_for_token(self, secret: str) -> User | None:
        """The enabled user a token belongs to (and note it was used), or None."""
        if not _tokens.looks_like_token(secret):
            return None
        with self.ws.session() as s:
            user_of = joinedload(ApiToken.user)
            row = s.scalars(
                select(ApiToken)
                .where(ApiToken.token_hash == _tokens.digest(secret))
                .options(
                    user_of.joinedload(UserAccount.function),
                    user_of.selectinload(UserAccount.grants),
                )
            ).first()
            if row is None or row.revoked_at is not None or row.user.disabled:
                return None
            now = utcnow()
            if row.last_used_at is None or now - as_utc(row.last_used_at) > TOKEN_TOUCH_INTERVAL:
                row.last_used_at = now
            return _snapshot(row.user)

    # -- grants ------------------------------------------------------------------------------
    def grant(self, email: str, kind: str, key: str) -> User:
        """Let `email` edit (and see the data of) resource `kind`/`key`."""
        self._check_grant_kind(kind)
        with self.ws.session() as s:
            row = self._row(s, email)
            self._check_resource(s, kind, key)
            if any(g.resource_kind == kind and g.resource_key == key for g in row.grants):
                raise Conflict(f"{row.email} already has a grant on {kind} `{key}`")
            row.grants.append(AccessGrant(resource_kind=kind, resource_key=key))
            s.flush()
            return _snapshot(row)

    def ungrant(self, email: str, kind: str, key: str) -> User:
        self._check_grant_kind(kind)
        with self.ws.session() as s:
            row = self._row(s, email)
            match = next(
                (g for g in row.grants if g.resource_kind == kind and g.resource_key == key), None
            )
            if match is None:
                raise NotFound(f"{row.email} has no grant on {kind} `{key}`")
            row.grants.remove(match)
            s.flush()
            return _snapshot(row)

    @staticmethod
    def _check_grant_kind(kind: str) -> None:
        if kind not in GRANT_KINDS:
            raise InvalidValue(
                f"unknown resource kind `{kind}`",
                field="kind",
                detail=f"use one of {', '.join(GRANT_KINDS)}",
            )

    @staticmethod
    def _check_resource(s: Session, kind: str, key: str) -> None:
        table: Any = {"function": Function, "capability": Capability}.get(kind)
        if table is not None:
            if s.scalar(select(table.id).where(table.key == key)) is None:
                raise NotFound(f"no {kind} `{key}`", field="key")
        elif kind == "source":
            if s.scalar(select(Source.id).where(Source.name == key)) is None:
                raise NotFound(f"no source `{key}`", field="key")
        elif kind == "model" and key != "*":
            raise InvalidValue("the ownership model's key is `*`", field="key")
        elif not key.strip() or len(key) > 64:
            raise InvalidValue("a resource key is 1 to 64 characters", field="key")


__all__ = [
    "GRANT_KINDS",
    "ROLES",
    "WRONG_CREDENTIALS",
    "Accounts",
    "Role",
    "TokenInfo",
    "User",
    "normalise_email",
]
