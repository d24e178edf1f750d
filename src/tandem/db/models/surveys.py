"""Survey tables: surveys, anonymous responses and single-use invitations.

Anonymity is built into the tables, not added by the code reading them:

- `survey_responses` holds the respondent's function, optional seniority and answers, nothing
  else: no name, no email, no timestamp, and a random primary key (not an autoincrement that
  would number responses in arrival order). On SQLite the table is `WITHOUT ROWID`, so no hidden
  row number records the order either; rows are kept in the order of their random ids.
- `survey_invitations` holds the SHA-256 of each unused single-use token. Answering deletes the
  row in the transaction that stores the response: a used invitation is recorded only by its
  absence (the survey counts how many were issued), not when, not in any order, and nothing is
  left to match with the response. (Marking a row "used" instead would leave, on PostgreSQL, the
  update's transaction id in the row's `xmin` system column, equal to the response's `xmin`: a
  reader could join the two tables on it.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow

RESPONSE_ID_LENGTH = 32
TOKEN_HASH_LENGTH = 64


class Survey(Base):
    """A pulse survey: its questions (a snapshot of the template) and its anonymity threshold."""

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="survey_status"),
        CheckConstraint("min_group >= 3", name="survey_min_group"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    template: Mapped[str] = mapped_column(String(NAME_LENGTH))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_group: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(16), default="open")
    invitations_issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyResponse(Base):
    """One anonymous response: function, optional seniority, answers. Nothing else, on purpose."""

    __tablename__ = "survey_responses"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(RESPONSE_ID_LENGTH), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    function: Mapped[str] = mapped_column(String(KEY_LENGTH))
    seniority: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)


class SurveyInvitation(Base):
    """An unused single-use invitation, stored as the SHA-256 of its token; deleted when used."""

    __tablename__ = "survey_invitations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
