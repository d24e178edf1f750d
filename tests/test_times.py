"""as_utc: naive means UTC, aware is converted to the same instant in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tandem.times import as_utc


def test_naive_is_taken_as_utc() -> None:
    assert as_utc(datetime(2026, 3, 1, 12, 30)) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert as_utc(datetime(2026, 3, 1, 12, 30)).tzinfo is UTC


def test_aware_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    moment = as_utc(datetime(2026, 3, 1, 13, 30, tzinfo=paris))
    assert moment.tzinfo is UTC
    assert (moment.hour, moment.minute) == (12, 30)
    assert moment.isoformat() == "2026-03-01T12:30:00+00:00"


def test_utc_stays_as_it_is() -> None:
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert as_utc(moment) == moment
    assert as_utc(moment).isoformat() == moment.isoformat()
