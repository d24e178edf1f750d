"""The sign-in limiter: 5 failures per (email, client) in a 5-minute sliding window."""

from __future__ import annotations

import pytest

from tandem.accounts import TooManyAttempts
from tandem.accounts.ratelimit import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_attempt_after_five_failures_is_refused_until_the_window_slides() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    for i in range(5):
        limiter.check("a@example.com", "10.0.0.1")
        limiter.failed("A@example.com ", "10.0.0.1")  # same email, whatever the case
        clock.now += 10 if i < 4 else 0
    with pytest.raises(TooManyAttempts) as caught:
        limiter.check("a@example.com", "10.0.0.1")
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 300 - 40  # the oldest failure leaves the window then
    limiter.check("a@example.com", "10.0.0.2")  # another client is not limited
    limiter.check("b@example.com", "10.0.0.1")  # nor another email
    clock.now += 260  # the first failure is now 300 s old
    limiter.check("a@example.com", "10.0.0.1")
    limiter.failed("a@example.com", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        limiter.check("a@example.com", "10.0.0.1")


def test_a_success_clears_the_count() -> None:
    limiter = LoginLimiter(clock=Clock())
    for _ in range(4):
        limiter.failed("a@example.com", "c")
    limiter.succeeded("a@example.com", "c")
    for _ in range(4):
        limiter.failed("a@example.com", "c")
    limiter.check("a@example.com", "c")
