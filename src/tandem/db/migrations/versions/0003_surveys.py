"""surveys

Surveys, anonymous responses and single-use invitations (see tandem/db/models/surveys.py for why
responses and invitations have random or hashed keys and no timestamps).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("min_group", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invitations_issued", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_surveys_survey_status")),
        sa.CheckConstraint("min_group >= 3", name=op.f("ck_surveys_survey_min_group")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name", name=op.f("uq_surveys_name")),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(length=64), nullable=False),
        sa.Column("seniority", sa.String(length=64), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"], unique=False
    )
    op.create_table(
        "survey_invitations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_invitations_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_survey_invitations")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_survey_invitations_survey_id"), "survey_invitations", ["survey_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_invitations_survey_id"), table_name="survey_invitations")
    op.drop_table("survey_invitations")
    op.drop_index(op.f("ix_survey_responses_survey_id"), table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_table("surveys")
