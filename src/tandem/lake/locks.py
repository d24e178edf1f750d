"""Exclusive work on the lake's customer data: one job that rewrites it at a time.

Identity resolution reads every event, then rewrites the derived tables (identities, links,
customer ids, profiles) from what it read. An erasure that ran in between would be undone: the
resolution would write the forgotten person's identities and profile back. Both therefore hold
the lake's `derived` lock while they run, and so do segment evaluations and campaign
assignments, imports and exposures (which store customer ids an erasure must find); a second
one started meanwhile, in this process or another, is refused at once with a clear message
instead of waiting or racing.

An advisory `flock` on a file in the lake folder: the operating system releases it when the
holder exits, also on a crash, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tandem.errors import Conflict

_held: set[str] = set()
_held_lock = threading.Lock()


class Busy(Conflict):
    """Another job that rewrites customer data holds the lake's lock."""

    error = "busy"


@contextmanager
def exclusive(lake_path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Hold the lake's lock for `what` ("identity resolution", "an erasure"), or raise Busy."""
    path = Path(lake_path) / ".derived.lock"
    key = str(path.resolve())
    with _held_lock:  # flock is per open file: two threads of one process would both get it
        if key in _held:
            raise _busy(what)
        _held.add(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _busy(what) from None
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        with _held_lock:
            _held.discard(key)


def _busy(what: str) -> Busy:
    return Busy(
        f"cannot start {what}: another job that rewrites customer data (identity resolution, an "
        "erasure, a segment evaluation or a campaign assignment) is already running on this "
        "workspace",
        detail="wait for it to finish, then try again",
    )
