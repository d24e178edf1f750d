"""Access by function, as the server's routers and pages use it.

The policy itself (the table, relations, `can`, `require`, ...) is domain logic and lives in
`tandem.accounts.policy`, so that domain services which take a user (segments) can check it
without importing the server; this module re-exports it unchanged.
"""

from __future__ import annotations

from tandem.accounts.policy import (
    ACTIONS,
    MODEL,
    POLICY,
    RELATIONS,
    RESOURCE_KINDS,
    ROLE_NAMES,
    USERS,
    Action,
    Relation,
    Resource,
    ResourceKind,
    allowed,
    can,
    capability_resource,
    function_resource,
    owned_resource,
    readable_sources,
    relations,
    require,
    source_resource,
)

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
