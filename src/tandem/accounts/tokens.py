"""Personal API tokens: `tdm_` + 43 random URL-safe characters (256 bits); only a SHA-256
digest is stored, so a database leak does not leak usable tokens.

A slow hash is not needed: the token is random and long, not a password a person chose.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "tdm_"
DISPLAY_LENGTH = 12


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """The start of a token shown in lists so a person can tell tokens apart."""
    return token[:DISPLAY_LENGTH]


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and 20 <= len(value) <= 200
