"""Ownership tables: company, functions, people, capabilities, RACI, governance.

Alembic migrations in `tandem/db/migrations` create these tables; a test checks that the models and
the migrations agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow


class Company(Base):
    """The one company a workspace describes."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    industry: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    employees: Mapped[int | None] = mapped_column(Integer)
    has_digital_revenue_team: Mapped[bool | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Function(Base):
    """A function of the company: marketing, IT, HR, the digital team, ...

    `kind` is the archetype Tandem reasons about (a company may rename its functions freely).
    """

    __tablename__ = "functions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    people: Mapped[list[Person]] = relationship(
        back_populates="function", cascade="all, delete-orphan", order_by="Person.id"
    )


class Person(Base):
    """A person in a function; at most one person heads a function."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("functions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    title: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    is_head: Mapped[bool] = mapped_column(default=False)

    function: Mapped[Function] = relationship(back_populates="people")


Index(
    "uq_people_one_head",
    Person.function_id,
    unique=True,
    sqlite_where=text("is_head"),
    postgresql_where=text("is_head"),
)


class Capability(Base):
    """A digital capability (social media marketing, CRM, web design, ...)."""

    __tablename__ = "capabilities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_facing: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Responsibility(Base):
    """One RACI cell: `function` plays `role` (R, A, C or I) on `capability`."""

    __tablename__ = "responsibilities"
    __table_args__ = (
        UniqueConstraint("capability_id", "function_id", "role", name="uq_responsibility"),
        CheckConstraint("role IN ('R', 'A', 'C', 'I')", name="raci_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capability_id: Mapped[int] = mapped_column(
        ForeignKey("capabilities.id", ondelete="CASCADE"), index=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(1))


class GovernanceBody(Base):
    """A steering committee, a digital team, or another body that governs digital."""

    __tablename__ = "governance_bodies"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('steering_committee', 'digital_team', 'other')", name="body_kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class GovernanceMember(Base):
    """A function sits on a governance body (through its head)."""

    __tablename__ = "governance_members"

    body_id: Mapped[int] = mapped_column(
        ForeignKey("governance_bodies.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True
    )


class ReportingLine(Base):
    """A governance body reports to a function (a digital team may report to several)."""

    __tablename__ = "reporting_lines"

    body_id: Mapped[int] = mapped_column(
        ForeignKey("governance_bodies.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True
    )
