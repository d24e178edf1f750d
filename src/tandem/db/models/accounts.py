"""Account tables: users of the web app and API, their personal API tokens, and access grants.

Passwords are stored as argon2 hashes and API tokens as SHA-256 digests: neither secret can be read
back from the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow
from tandem.db.models.ownership import Function

EMAIL_LENGTH = 320
TOKEN_HASH_LENGTH = 64
"""A SHA-256 digest in hex."""
TOKEN_PREFIX_LENGTH = 12
"""The non-secret start of a token kept for display (`tdm_Ab3xYz9Q`)."""


class UserAccount(Base):
    """Someone who signs in: a member of a function with a role (admin, editor or viewer)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    function_id: Mapped[int | None] = mapped_column(
        ForeignKey("functions.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    function: Mapped[Function | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.id"
    )
    grants: Mapped[list[AccessGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="AccessGrant.id"
    )


class ApiToken(Base):
    """A personal API token (`Authorization: Bearer tdm_...`); only its SHA-256 digest is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_tokens_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    prefix: Mapped[str] = mapped_column(String(TOKEN_PREFIX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[UserAccount] = relationship(back_populates="tokens")


class AccessGrant(Base):
    """An admin lets a user edit (and see the data of) one resource their function does not own.

    `resource_kind` is a kind of the access policy (capability, function, source, ...);
    `resource_key` is that resource's key.
    """

    __tablename__ = "access_grants"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "resource_kind", "resource_key", name="uq_access_grants_resource"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resource_kind: Mapped[str] = mapped_column(String(32))
    resource_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[UserAccount] = relationship(back_populates="grants")
