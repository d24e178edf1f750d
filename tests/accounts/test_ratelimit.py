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


def test_one_client_spraying_many_emails_is_stopped_too() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, max_client_failures=8, clock=clock)
    for i in range(8):
        limiter.check(f"user{i}@example.com", "10.0.0.9")
        limiter.failed(f"user{i}@example.com", "10.0.0.9")
        clock.now += 1
    with pytest.raises(TooManyAttempts, match="for this address") as caught:
        limiter.check("someone-new@example.com", "10.0.0.9")
    assert caught.value.retry_after == 300 - 8
    limiter.check("someone-new@example.com", "10.0.0.10")  # other clients are not affected


def test_stale_entries_do_not_pile_up() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    for i in range(100):
        limiter.failed(f"user{i}@example.com", "c")
    assert len(limiter) == 101  # 100 (email, client) keys + the client's own
    clock.now += 301
    limiter.check("user1@example.com", "c")  # a check drops the stale keys it reads
    assert len(limiter) == 99


def test_past_the_key_limit_stale_keys_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from tandem.accounts import ratelimit

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 10)
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    for i in range(20):
        limiter.failed(f"old{i}@example.com", f"10.0.0.{i}")  # 40 keys, over the limit
    clock.now += 301
    limiter.failed("new@example.com", "10.0.1.1")
    assert len(limiter) == 2  # only the new failure's two keys are left
