"""Identity-resolution bookkeeping in the metadata store: resolution runs and erasures.

The identity graph, identities and profiles themselves are customer data and live in the lake;
here is only what describes the work: when a resolution ran and what it counted, and the log of
right-to-be-forgotten erasures (what was erased and how much, never the erased data itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db.models.base import Base, utcnow


class ResolutionRun(Base):
    """One `tandem resolve`: its counts, settings and outcome."""

    __tablename__ = "resolution_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="running")
    """running, done or failed."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """records, identifiers, customers, merges by deterministic rule and by probabilistic
    match, new and merged customer ids, ... (whatever the run reports)."""
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The identity settings the run used (rules, threshold), for reproducibility."""
    error: Mapped[str | None] = mapped_column(String(2000))


class Erasure(Base):
    """One right-to-be-forgotten erasure (`tandem forget`). Holds no personal data: the type of
    the identifier asked for, who asked, and how many rows each table lost."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(200))
    """A user's email, or `cli` for the command line without a signed-in user."""
    identifier_type: Mapped[str] = mapped_column(String(32))
    customers: Mapped[int] = mapped_column(Integer, default=0)
    """How many customers (profiles) were erased."""
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Rows removed per lake table, e.g. {"events": 41, "quarantine": 1, "profiles": 1}."""
