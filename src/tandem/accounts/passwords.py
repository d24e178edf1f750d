"""Password hashing with argon2 (argon2-cffi's `PasswordHasher`, RFC 9106 parameters).

A hash made with older parameters is replaced by a new one at the next successful sign-in
(`needs_rehash`). Unknown emails are checked against a dummy hash so that a sign-in takes as long
whether or not the account exists.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tandem.errors import InvalidValue

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher


def use_hasher(new: PasswordHasher) -> PasswordHasher:
    """Swap the hasher (tests use cheap parameters); returns the previous one."""
    global _hasher
    previous, _hasher = _hasher, new
    _dummy_hash.cache_clear()
    return previous


def check_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidValue(
            f"the password is too short (at least {MIN_LENGTH} characters)", field="password"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidValue(
            f"the password is too long (at most {MAX_LENGTH} characters)", field="password"
        )
    if not password.strip():
        raise InvalidValue("the password cannot be only spaces", field="password")
    return password


def generate() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and returns False."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))
