"""Initiative tables: digital initiatives, their owning functions, team members and KPIs.

An initiative is owned by at least two functions (the service enforces it); a KPI is a target on a
Tandem measure or on a manually reported number, whose reported values are kept as a history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow


class Initiative(Base):
    """A digital initiative, jointly owned by functions."""

    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'active', 'done', 'stopped')", name="initiative_status"
        ),
        CheckConstraint("origin IN ('top-down', 'bottom-up')", name="initiative_origin"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="initiative_dates",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    goal: Mapped[str] = mapped_column(Text, default="")
    customer_facing: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    origin: Mapped[str] = mapped_column(String(16), default="top-down")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owners: Mapped[list[InitiativeOwner]] = relationship(
        cascade="all, delete-orphan", order_by="InitiativeOwner.position"
    )
    members: Mapped[list[InitiativeMember]] = relationship(
        cascade="all, delete-orphan", order_by="InitiativeMember.id"
    )
    kpis: Mapped[list[Kpi]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="Kpi.id"
    )


class InitiativeOwner(Base):
    """A function owns (develops and resources) an initiative."""

    __tablename__ = "initiative_owners"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class InitiativeMember(Base):
    """A team member: a person of the ownership model, or a name and a function."""

    __tablename__ = "initiative_members"
    __table_args__ = (UniqueConstraint("initiative_id", "name", name="uq_initiative_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    function_id: Mapped[int] = mapped_column(ForeignKey("functions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")


class Kpi(Base):
    """A target on a measure: a Tandem measure (`survey:NAME:QUESTION`, ...) or `manual`."""

    __tablename__ = "initiative_kpis"
    __table_args__ = (
        UniqueConstraint("initiative_id", "key", name="uq_initiative_kpi"),
        CheckConstraint("direction IN ('at_least', 'at_most')", name="kpi_direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    measure: Mapped[str] = mapped_column(String(400), default="manual")
    target: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(16), default="at_least")
    baseline: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32), default="")

    initiative: Mapped[Initiative] = relationship(back_populates="kpis")
    values: Mapped[list[KpiValue]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: [KpiValue.reported_on, KpiValue.id]
    )


class KpiValue(Base):
    """One reported value of a manual KPI, on a date."""

    __tablename__ = "initiative_kpi_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi_id: Mapped[int] = mapped_column(
        ForeignKey("initiative_kpis.id", ondelete="CASCADE"), index=True
    )
    reported_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
