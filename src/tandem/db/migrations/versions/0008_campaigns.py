"""campaigns

Campaign definitions, arms and metrics (issue 5): `campaigns` and `campaign_owners`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("customers", sa.JSON(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("salt", sa.String(length=200), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("exposures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_campaigns_campaign_dates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_owners",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_owners_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_campaign_owners_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "function_id", name=op.f("pk_campaign_owners")),
    )
    op.create_index(
        op.f("ix_campaign_owners_function_id"), "campaign_owners", ["function_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_owners_function_id"), table_name="campaign_owners")
    op.drop_table("campaign_owners")
    op.drop_table("campaigns")
