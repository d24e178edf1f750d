"""Sign-in rate limit: at most N failures per (email, client) in a sliding window, and at most
M failures per client whatever the email (password spraying).

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
"""Per (email, client) in the window."""
MAX_CLIENT_FAILURES = 50
"""Per client, all emails together, in the window."""
WINDOW_SECONDS = 300.0
MAX_KEYS = 100_000
"""Past this many tracked keys, stale ones are dropped (memory stays bounded)."""

ANY_EMAIL = "*"


class LoginLimiter:
    """Counts failed sign-ins; `check` refuses a key that failed too often lately."""

    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        max_client_failures: int = MAX_CLIENT_FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
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

    def _refuse_if_over(self, key: tuple[str, str], limit: int, now: float) -> None:
        times = self._recent(key, now)
        if len(times) >= limit:
            retry_after = max(1, int(times[-limit] + self.window - now + 0.999))
            who = "this address" if key[0] == ANY_EMAIL else "this email from this address"
            raise TooManyAttempts(f"too many failed sign-ins for {who}", retry_after=retry_after)

    def check(self, email: str, client: str) -> None:
        """Raise TooManyAttempts when (email, client) or the client alone failed too often."""
        with self._lock:
            now = self.clock()
            self._refuse_if_over((_email(email), client), self.max_failures, now)
            self._refuse_if_over((ANY_EMAIL, client), self.max_client_failures, now)

    def failed(self, email: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            if len(self._failures) > MAX_KEYS:
                self._forget_stale(now)
            for key in ((_email(email), client), (ANY_EMAIL, client)):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times

    def succeeded(self, email: str, client: str) -> None:
        with self._lock:
            self._failures.pop((_email(email), client), None)

    def _forget_stale(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)

    def __len__(self) -> int:
        return len(self._failures)


def _email(email: str) -> str:
    return email.strip().lower()
