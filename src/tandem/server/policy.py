"""Access by function, as the server's routers and pages use it.

The policy itself (the table, relations, `can`, `require`, ...) is domain logic and lives in
`tandem.accounts.policy`, so that domain services which take a user (segments) can check it
without importing the server; this module re-exports it unchanged (its `__all__`).
"""

from __future__ import annotations

from tandem.accounts import policy as _policy
from tandem.accounts.policy import *  # noqa: F403  (the domain's names, re-exported)

__all__ = list(_policy.__all__)
