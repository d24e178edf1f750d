"""Customer-data tables of the metadata store: sources (channel feeds) and their owners.

The events themselves live in the lake (Delta tables); here is only what describes a feed: its
name, kind, owning functions and the hash of its write key (never the key itself).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, Base, utcnow
from tandem.db.models.ownership import Function

KEY_HASH_LENGTH = 64
"""A SHA-256 digest in hex."""
KEY_PREFIX_LENGTH = 16
"""The non-secret start of a write key kept for display (`twk_Ab3x`)."""


class Source(Base):
    """A channel feed (web, app, email, ...) that sends customer data with a write key."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(KEY_HASH_LENGTH), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(KEY_PREFIX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    owners: Mapped[list[SourceOwner]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceOwner.position"
    )


class SourceOwner(Base):
    """A function that owns a source (a source has one or more; joint ownership is normal)."""

    __tablename__ = "source_owners"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    source: Mapped[Source] = relationship(back_populates="owners")
    function: Mapped[Function] = relationship()
