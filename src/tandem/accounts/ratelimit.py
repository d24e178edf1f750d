"""Sign-in rate limit: at most N failures per (email, client) in a sliding window.

In memory, for one server process: several processes (or a restart) each keep their own count.
Behind several workers, put a limit in the reverse proxy as well.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from threading import Lock

from tandem.accounts.errors import TooManyAttempts

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


class LoginLimiter:
    """Counts failed sign-ins per key; `check` refuses a key that failed too often lately."""

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def check(self, email: str, client: str) -> None:
        """Raise TooManyAttempts when (email, client) failed `max_failures` times in the window."""
        key = (email.strip().lower(), client)
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                retry_after = max(1, int(times[0] + self.window - now + 0.999))
                raise TooManyAttempts(
                    "too many failed sign-ins for this email from this address",
                    retry_after=retry_after,
                )

    def failed(self, email: str, client: str) -> None:
        key = (email.strip().lower(), client)
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def succeeded(self, email: str, client: str) -> None:
        with self._lock:
            self._failures.pop((email.strip().lower(), client), None)
