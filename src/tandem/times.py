"""Times as Tandem keeps them: every stored or compared time is an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime: a naive one is taken to be UTC already (SQLite returns
    naive datetimes, and a time written without a zone means UTC); an aware one is converted
    (the same instant, written in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(text: str) -> datetime | None:
    """An ISO-8601 date or date-time as an aware UTC datetime (`as_utc`: UTC when no zone is
    given; `Z` allowed), or None when `text` is not one."""
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        return None
