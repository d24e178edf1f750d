"""Access by function: who may read, edit or see the data of what.

A decision depends on the user's role (admin, editor, viewer), on how the user's function relates
to the resource, on the resource's kind and on the action. The relations:

- `owner`        the user's function owns the resource (holds A on a capability, owns a source, an
                 initiative or a survey, *is* the function)
- `co_owner`     the user's function shares it (holds R on a capability)
- `digital_team` the user's function is of kind `digital` (the hub)
- `granted`      an admin granted the user this resource (`tandem users grant`)
- `none`         none of these

`POLICY` below is the one table: for each (resource kind, action), the relations that allow each
role. A user with several relations is allowed when any of them is. `docs/access.md` explains it.

The policy is domain logic: the HTTP routers and pages check it (through `tandem.server.policy`,
which re-exports this module), and so do domain services that take a user (segments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

from tandem.accounts.errors import Forbidden
from tandem.accounts.service import Role, User

if TYPE_CHECKING:
    from tandem.workspace import Workspace

Relation = Literal["owner", "co_owner", "digital_team", "granted", "none"]
RELATIONS: Final[tuple[Relation, ...]] = get_args(Relation)
ResourceKind = Literal[
    "model",
    "function",
    "capability",
    "source",
    "hr_source",
    "survey",
    "initiative",
    "segment",
    "campaign",
    "user",
]
RESOURCE_KINDS: Final[tuple[ResourceKind, ...]] = get_args(ResourceKind)
Action = Literal["read", "edit", "read_data", "read_personal"]
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
RoleName = Role  # the accounts' roles, one list
ROLE_NAMES: Final[tuple[RoleName, ...]] = get_args(RoleName)

_ALL: Final[frozenset[Relation]] = frozenset(RELATIONS)
_NOBODY: Final[frozenset[Relation]] = frozenset()
_OWNERS: Final[frozenset[Relation]] = frozenset({"owner", "co_owner", "granted"})
_OWNERS_AND_HUB: Final[frozenset[Relation]] = _OWNERS | {"digital_team"}
_GRANTED: Final[frozenset[Relation]] = frozenset({"granted"})


def _row(
    admin: frozenset[Relation], editor: frozenset[Relation], viewer: frozenset[Relation]
) -> Mapping[RoleName, frozenset[Relation]]:
    return {"admin": admin, "editor": editor, "viewer": viewer}


POLICY: Final[Mapping[tuple[ResourceKind, Action], Mapping[RoleName, frozenset[Relation]]]] = {
    #  (kind, action)                       admin  editor            viewer
    ("model", "read"): _row(_ALL, _ALL, _ALL),
    ("model", "edit"): _row(_ALL, _GRANTED, _NOBODY),
    ("function", "read"): _row(_ALL, _ALL, _ALL),
    ("function", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("capability", "read"): _row(_ALL, _ALL, _ALL),
    ("capability", "edit"): _row(_ALL, _OWNERS_AND_HUB, _NOBODY),
    ("source", "read"): _row(_ALL, _ALL, _ALL),
    ("source", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("source", "read_data"): _row(_ALL, _OWNERS_AND_HUB, _OWNERS_AND_HUB),
    ("source", "read_personal"): _row(_ALL, _OWNERS_AND_HUB, _NOBODY),
    ("hr_source", "read"): _row(_ALL, _ALL, _ALL),
    ("hr_source", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("hr_source", "read_data"): _row(_ALL, _OWNERS, _OWNERS),
    ("hr_source", "read_personal"): _row(_ALL, _OWNERS, _NOBODY),
    ("survey", "read"): _row(_ALL, _ALL, _ALL),
    ("survey", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("initiative", "read"): _row(_ALL, _ALL, _ALL),
    ("initiative", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    # segments and campaigns: definitions and aggregate results are read by everyone; their
    # customer lists (memberships, assignments) are customer data, as a source's events are
    ("segment", "read"): _row(_ALL, _ALL, _ALL),
    ("segment", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("segment", "read_data"): _row(_ALL, _OWNERS_AND_HUB, _OWNERS_AND_HUB),
    ("segment", "read_personal"): _row(_ALL, _OWNERS_AND_HUB, _NOBODY),
    ("campaign", "read"): _row(_ALL, _ALL, _ALL),
    ("campaign", "edit"): _row(_ALL, _OWNERS, _NOBODY),
    ("campaign", "read_data"): _row(_ALL, _OWNERS_AND_HUB, _OWNERS_AND_HUB),
    ("campaign", "read_personal"): _row(_ALL, _OWNERS_AND_HUB, _NOBODY),
    ("user", "read"): _row(_ALL, _NOBODY, _NOBODY),
    ("user", "edit"): _row(_ALL, _NOBODY, _NOBODY),
}
"""(resource kind, action) -> role -> the relations that allow it. A pair missing here is not an
action that kind has (asking about it is a programming error)."""

GRANT_KIND_OF: Final[Mapping[ResourceKind, str | None]] = {
    "model": "model",
    "function": "function",
    "capability": "capability",
    "source": "source",
    "hr_source": "source",
    "survey": "survey",
    "initiative": "initiative",
    "segment": "segment",
    "campaign": "campaign",
    "user": None,
}
"""The grant (`tandem users grant EMAIL KIND KEY`) that gives the `granted` relation."""


@dataclass(frozen=True)
class Resource:
    """What a decision is about: a kind, a key, and the functions that own or share it."""

    kind: ResourceKind
    key: str = "*"
    owners: frozenset[str] = frozenset()
    co_owners: frozenset[str] = frozenset()

    def describe(self) -> str:
        name = self.kind.replace("_", " ")
        return name if self.key == "*" else f"{name} `{self.key}`"


MODEL: Final = Resource("model")
USERS: Final = Resource("user")


def function_resource(key: str) -> Resource:
    return Resource("function", key, owners=frozenset({key}))


def capability_resource(key: str, roles: Mapping[str, str]) -> Resource:
    """A capability whose `roles` map function keys to RACI letters: A owns, R co-owns."""
    return Resource(
        "capability",
        key,
        owners=frozenset(f for f, letters in roles.items() if "A" in letters),
        co_owners=frozenset(f for f, letters in roles.items() if "R" in letters),
    )


def source_resource(name: str, kind: str, owners: Iterable[str]) -> Resource:
    """A customer-data source; an `hr` source is its own resource kind (HR keeps it)."""
    return Resource("hr_source" if kind == "hr" else "source", name, owners=frozenset(owners))


def owned_resource(kind: ResourceKind, key: str, owners: Iterable[str]) -> Resource:
    """A survey, an initiative, ... owned by the functions `owners`."""
    return Resource(kind, key, owners=frozenset(owners))


def relations(user: User, resource: Resource) -> frozenset[Relation]:
    """How the user's function relates to `resource` (`none` when in no other way)."""
    found: set[Relation] = set()
    if user.function is not None and user.function in resource.owners:
        found.add("owner")
    if user.function is not None and user.function in resource.co_owners:
        found.add("co_owner")
    if user.function_kind == "digital":
        found.add("digital_team")
    grant_kind = GRANT_KIND_OF[resource.kind]
    if grant_kind is not None and (grant_kind, resource.key) in user.grants:
        found.add("granted")
    return frozenset(found) if found else frozenset({"none"})


def allowed(role: str, relation: str, kind: str, action: str) -> bool:
    """The table's answer for one (role, relation, kind, action)."""
    try:
        rule = POLICY[(kind, action)]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"{kind} has no action `{action}`") from None
    if role not in rule or relation not in RELATIONS:
        raise ValueError(f"unknown role `{role}` or relation `{relation}`")
    return relation in rule[role]  # type: ignore[index]


def can(user: User, action: Action, resource: Resource) -> bool:
    """Whether `user` may do `action` on `resource` (a disabled user may do nothing)."""
    if user.disabled:
        return False
    return any(allowed(user.role, r, resource.kind, action) for r in relations(user, resource))


def require(user: User, action: Action, resource: Resource) -> None:
    """Raise Forbidden (403) unless `user` may do `action` on `resource`."""
    if not can(user, action, resource):
        verb = {
            "read": "read",
            "edit": "change",
            "read_data": "see the customer data of",
            "read_personal": "see personal data in",
        }[action]
        who = f"{user.role} of {user.function}" if user.function else user.role
        raise Forbidden(
            f"{user.email} ({who}) may not {verb} {resource.describe()}",
            detail="an admin can grant it: tandem users grant EMAIL KIND KEY",
        )


def readable_sources(
    ws: Workspace, user: User, action: Action = "read_personal"
) -> list[str] | None:
    """The sources whose personal data (or, with `action="read_data"`, whose customer data)
    `user` may see; None for an admin (every source, also those added later). A profile joins
    the data of every source a customer was seen in, so a user sees a profile only when all its
    sources are among these."""
    if user.is_admin and not user.disabled:
        return None
    return [
        info.name
        for info in ws.sources.list()
        if can(user, action, source_resource(info.name, info.kind, info.owners))
    ]


__all__ = [
    "ACTIONS",
    "MODEL",
    "POLICY",
    "RELATIONS",
    "RESOURCE_KINDS",
    "ROLE_NAMES",
    "USERS",
    "Action",
    "Relation",
    "Resource",
    "ResourceKind",
    "allowed",
    "can",
    "capability_resource",
    "function_resource",
    "owned_resource",
    "readable_sources",
    "relations",
    "require",
    "source_resource",
]
