"""Campaign tables: campaign definitions (target, channel, dates, salt, arms, metrics, exposure
events) and their owning functions.

Which customer is in which arm, and who was exposed, is customer data: it lives in the lake
(`assignments`, `exposures`). Here is only the definition; arms, metrics and exposure events are
kept as JSON lists in the order the definition gives them (the assignment rule depends on the arms'
order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow
from tandem.db.models.ownership import Function


class Campaign(Base):
    """A campaign with a hold-out: a target (a segment or a customer list), arms and metrics."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("end_at > start_at", name="campaign_dates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    customers: Mapped[list[str] | None] = mapped_column(JSON)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    salt: Mapped[str] = mapped_column(String(NAME_LENGTH))
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    exposures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))

    owners: Mapped[list[CampaignOwner]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignOwner.position"
    )


class CampaignOwner(Base):
    """A function that owns a campaign (one or more; joint ownership is normal)."""

    __tablename__ = "campaign_owners"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    function: Mapped[Function] = relationship()
