"""Sources: the channel feeds that send customer data, their owners and their write keys.

A source is a feed such as the web shop, the mobile app or the service desk. It has a unique
slug-like name, a kind (`SOURCE_KINDS`), one or more owning functions and a secret write key that
clients send as the HTTP Basic user (as Segment's SDKs do).

Write keys are 32 random URL-safe characters after a recognisable `twk_` prefix. Only their
SHA-256 digest is stored: for a random key of 192 bits a fast hash is as safe as a slow one, and
it lets the server check a key in microseconds (argon2, made for guessable passwords, would cost
about 50 ms per request). The first characters are kept for display (`twk_Ab3x...`).

`Sources.authenticate` keeps a small in-process cache of digests. An entry lives at most
`CACHE_SECONDS`; a rotation or removal made through the same `Sources` object (the server's own
API) clears the cache at once, and one made by another process (the CLI) takes effect within
`CACHE_SECONDS`.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tandem.db.models import Function, Source, SourceOwner, utcnow
from tandem.errors import Conflict, InvalidValue, NotFound
from tandem.ownership.catalogue import key_problem
from tandem.times import as_utc

if TYPE_CHECKING:
    from tandem.workspace import Workspace

SOURCE_KINDS: Final = (
    "web",
    "app",
    "email",
    "social",
    "chat",
    "service",
    "crm",
    "pos",
    "ideas",
    "hr",
    "other",
)
KEY_PREFIX: Final = "twk_"
"""Every write key starts with this, so a leaked key is recognisable (secret scanners)."""
KEY_RANDOM_BYTES: Final = 24
"""192 random bits: 32 URL-safe characters."""
DISPLAY_CHARS: Final = 8
"""How much of a key is kept in clear for display: the prefix and 4 random characters."""
MAX_KEY_LENGTH: Final = 200
"""A longer write key cannot be ours; refused before hashing."""
CACHE_SECONDS: Final = 1.0
"""How long `authenticate` trusts a cached answer (positive or negative)."""
CACHE_MAX_ENTRIES: Final = 10_000
"""The cache is cleared when it grows past this (unknown keys cannot exhaust memory)."""


@dataclass(frozen=True)
class SourceInfo:
    """What a source is, without its key: safe to show and to cache."""

    name: str
    kind: str
    owners: tuple[str, ...]
    created_at: datetime
    rotated_at: datetime | None
    key_prefix: str

    @property
    def key_hint(self) -> str:
        """The displayable start of the write key, e.g. `twk_Ab3x...`."""
        return f"{self.key_prefix}..."

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "owners": list(self.owners),
            "created_at": self.created_at.isoformat(),
            "rotated_at": self.rotated_at.isoformat() if self.rotated_at else None,
            "key_hint": self.key_hint,
        }


def new_write_key() -> str:
    """A fresh random write key: `twk_` and 32 URL-safe characters."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(write_key: str) -> str:
    """The stored form of a write key: its SHA-256 digest in hex."""
    return hashlib.sha256(write_key.encode("utf-8", "surrogatepass")).hexdigest()


def _info(row: Source) -> SourceInfo:
    return SourceInfo(
        name=row.name,
        kind=row.kind,
        owners=tuple(owner.function.key for owner in row.owners),
        created_at=as_utc(row.created_at),
        rotated_at=as_utc(row.rotated_at) if row.rotated_at else None,
        key_prefix=row.key_prefix,
    )


def _valid_name(name: str) -> str:
    name = name.strip()
    problem = key_problem(name)
    if problem:
        raise InvalidValue(
            f"invalid source name: {problem.replace('key', 'name')}",
            field="name",
            detail="a source name is a slug such as `web-shop` or `service-desk`",
        )
    return name


def _valid_kind(kind: str) -> str:
    kind = kind.strip().lower()
    if kind not in SOURCE_KINDS:
        raise InvalidValue(
            f"unknown source kind `{kind}`",
            field="kind",
            detail=f"choose one of: {', '.join(SOURCE_KINDS)}",
        )
    return kind


class Sources:
    """The workspace's sources; reached as `workspace.sources`. Thread-safe."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self._cache: dict[str, tuple[float, SourceInfo | None]] = {}
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------
    def list(self) -> builtins.list[SourceInfo]:
        """Every source, by name."""
        with self.ws.session() as s:
            rows = s.scalars(_query().order_by(Source.name))
            return [_info(row) for row in rows]

    def get(self, name: str) -> SourceInfo:
        """One source; NotFound names the known ones."""
        with self.ws.session() as s:
            return _info(self._source(s, name))

    def names(self) -> builtins.list[str]:
        with self.ws.session() as s:
            return list(s.scalars(select(Source.name).order_by(Source.name)))

    # -- changing ----------------------------------------------------------------------------
    def add(self, name: str, *, kind: str, owners: builtins.list[str]) -> tuple[SourceInfo, str]:
        """Create a source; returns it and its write key in clear (shown this once only)."""
        name = _valid_name(name)
        kind = _valid_kind(kind)
        write_key = new_write_key()
        with self.ws.session() as s:
            if s.scalar(select(Source.id).where(Source.name == name)) is not None:
                raise Conflict(
                    f"a source named `{name}` already exists",
                    field="name",
                    detail="pick another name, or rotate its key: "
                    f"tandem sources rotate-key {name}",
                )
            functions = _owner_functions(s, owners)
            row = Source(
                name=name,
                kind=kind,
                key_hash=hash_key(write_key),
                key_prefix=write_key[:DISPLAY_CHARS],
                created_at=utcnow(),
            )
            row.owners = [SourceOwner(function=fn, position=i) for i, fn in enumerate(functions)]
            s.add(row)
            try:
                s.flush()
            except IntegrityError:  # another process created the same name just now
                raise Conflict(f"a source named `{name}` already exists", field="name") from None
            info = _info(row)
        self._forget()
        return info, write_key

    def set_owners(self, name: str, owners: builtins.list[str]) -> SourceInfo:
        """Replace the owning functions of a source."""
        with self.ws.session() as s:
            row = self._source(s, name)
            functions = _owner_functions(s, owners)
            row.owners.clear()
            s.flush()
            row.owners.extend(
                SourceOwner(function=fn, position=i) for i, fn in enumerate(functions)
            )
            s.flush()
            info = _info(row)
        self._forget()
        return info

    def rotate_key(self, name: str) -> str:
        """Give a source a new write key; the old one stops working (at once in this process,
        within `CACHE_SECONDS` in a server running elsewhere). Returns the new key in clear."""
        write_key = new_write_key()
        with self.ws.session() as s:
            row = self._source(s, name)
            row.key_hash = hash_key(write_key)
            row.key_prefix = write_key[:DISPLAY_CHARS]
            row.rotated_at = utcnow()
        self._forget()
        return write_key

    def remove(self, name: str, *, force: bool = False) -> int:
        """Remove a source and its key; returns how many lake rows (events and quarantined
        messages) carry its name.

        Refused while the lake holds data from the source, unless `force`: the data is keyed by
        the source's name, so a source added later under the same name would inherit it. To stop
        a feed and keep its history, rotate its key instead."""
        self.get(name)  # NotFound naming the known sources
        stored = self.stored_rows(name)
        if stored and not force:
            raise Conflict(
                f"source `{name}` has {stored:,} row{'' if stored == 1 else 's'} in the lake "
                "(events and quarantine)",
                field="name",
                detail=f"to cut the feed off and keep its history: tandem sources rotate-key "
                f"{name}; to remove it anyway (its rows stay in the lake under this name): "
                f"tandem sources remove {name} --force",
            )
        with self.ws.session() as s:
            s.delete(self._source(s, name))
        self._forget()
        return stored

    def stored_rows(self, name: str) -> int:
        """How many rows of the lake's `events` and `quarantine` tables carry this source."""
        total = 0
        for table_name in ("events", "quarantine"):
            table = self.ws.lake.raw(table_name)
            count = table.filter(table.source == name).count().to_pyarrow()
            total += int(count.as_py())
        return total

    # -- authenticating ----------------------------------------------------------------------
    def authenticate(self, write_key: str) -> SourceInfo | None:
        """The source whose write key this is, or None. Uses the cache, then the database."""
        hit = self.cached(write_key)
        if not isinstance(hit, _Miss):
            return hit
        return self.authenticate_uncached(write_key)

    def cached(self, write_key: str) -> SourceInfo | _Miss | None:
        """The cached answer for a key, or MISS when the database must be asked (no I/O)."""
        if not write_key or len(write_key) > MAX_KEY_LENGTH:
            return None
        entry = self._cache.get(hash_key(write_key))
        if entry is None or entry[0] < time.monotonic():
            return MISS
        return entry[1]

    def authenticate_uncached(self, write_key: str) -> SourceInfo | None:
        """Look the key's digest up in the database (and cache the answer)."""
        if not write_key or len(write_key) > MAX_KEY_LENGTH:
            return None
        digest = hash_key(write_key)
        with self.ws.session() as s:
            row = s.scalars(_query().where(Source.key_hash == digest)).first()
            # The lookup is by digest; the comparison below is constant-time all the same.
            found = _info(row) if row and hmac.compare_digest(row.key_hash, digest) else None
        with self._lock:
            if len(self._cache) >= CACHE_MAX_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + CACHE_SECONDS, found)
        return found

    # -- helpers -----------------------------------------------------------------------------
    def _forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _source(self, s: Session, name: str) -> Source:
        row = s.scalars(_query().where(Source.name == name)).first()
        if row is None:
            known = ", ".join(s.scalars(select(Source.name).order_by(Source.name)))
            raise NotFound(
                f"no source `{name}` (known: {known or 'none'})",
                field="name",
                detail=None
                if known
                else "add one with: tandem sources add NAME --kind KIND --owner FUNCTION",
            )
        return row


class _Miss:
    """The type of MISS: `Sources.cached` has no answer for a key."""

    def __repr__(self) -> str:
        return "MISS"


MISS: Final = _Miss()


def _query() -> Select[Source]:
    return select(Source).options(selectinload(Source.owners).selectinload(SourceOwner.function))


def _owner_functions(s: Session, owners: list[str]) -> list[Function]:
    """The functions named by `owners` (at least one, no repeats), in the order given."""
    keys: list[str] = []
    for raw in owners:
        key = raw.strip()
        if key and key not in keys:
            keys.append(key)
    if not keys:
        raise InvalidValue(
            "a source needs at least one owning function",
            field="owners",
            detail="give --owner FUNCTION (repeat it for joint ownership)",
        )
    rows = {fn.key: fn for fn in s.scalars(select(Function).where(Function.key.in_(keys)))}
    unknown = [key for key in keys if key not in rows]
    if unknown:
        known = ", ".join(s.scalars(select(Function.key).order_by(Function.position)))
        raise NotFound(
            f"no function {', '.join(f'`{k}`' for k in unknown)} (known: {known or 'none'})",
            field="owners",
        )
    return [rows[key] for key in keys]
