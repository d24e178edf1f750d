"""Accounts: users with a function and a role, personal API tokens, access grants."""

from tandem.accounts.errors import Forbidden, NotAuthenticated, TooManyAttempts
from tandem.accounts.service import GRANT_KINDS, ROLES, Accounts, Role, TokenInfo, User

__all__ = [
    "GRANT_KINDS",
    "ROLES",
    "Accounts",
    "Forbidden",
    "NotAuthenticated",
    "Role",
    "TokenInfo",
    "TooManyAttempts",
    "User",
]
