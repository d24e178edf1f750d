"""Segment tables: segment definitions, their owning functions, and one row per evaluation.

Which customers were in a segment at an evaluation is customer data: it lives in the lake
(`segment_memberships`, one append commit per evaluation). Here is the definition (its `where`
condition tree as JSON, as the user wrote it after validation) and each evaluation's number, time,
reference time (`as_of`) and size, so a segment's size over time is read without the lake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow
from tandem.db.models.ownership import Function


class Segment(Base):
    """A declarative segment: conditions on profile traits and behaviour."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))

    owners: Mapped[list[SegmentOwner]] = relationship(
        cascade="all, delete-orphan", order_by="SegmentOwner.position"
    )
    evaluations: Mapped[list[SegmentEvaluationRow]] = relationship(
        cascade="all, delete-orphan", order_by="SegmentEvaluationRow.evaluation"
    )


class SegmentOwner(Base):
    """A function that owns a segment (one or more; joint ownership is normal)."""

    __tablename__ = "segment_owners"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    function: Mapped[Function] = relationship()


class SegmentEvaluationRow(Base):
    """One evaluation of a segment: its members are in the lake under the same number."""

    __tablename__ = "segment_evaluations"
    __table_args__ = (UniqueConstraint("segment_id", "evaluation", name="uq_segment_evaluation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    evaluation: Mapped[int] = mapped_column(Integer)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    size: Mapped[int] = mapped_column(Integer)
