"""initiatives

Initiatives, their owners, members and KPIs; filled by the collaboration issue (initiatives).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("customer_facing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "origin IN ('top-down', 'bottom-up')", name=op.f("ck_initiatives_initiative_origin")
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'active', 'done', 'stopped')",
            name=op.f("ck_initiatives_initiative_status"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_initiatives_initiative_dates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
        sa.UniqueConstraint("key", name=op.f("uq_initiatives_key")),
    )
    op.create_table(
        "initiative_kpis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("measure", sa.String(length=400), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "direction IN ('at_least', 'at_most')", name=op.f("ck_initiative_kpis_kpi_direction")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_kpis_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_kpis")),
        sa.UniqueConstraint("initiative_id", "key", name="uq_initiative_kpi"),
    )
    op.create_index(
        op.f("ix_initiative_kpis_initiative_id"), "initiative_kpis", ["initiative_id"], unique=False
    )
    op.create_table(
        "initiative_owners",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_initiative_owners_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_owners_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative_id", "function_id", name=op.f("pk_initiative_owners")),
    )
    op.create_table(
        "initiative_kpi_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kpi_id"],
            ["initiative_kpis.id"],
            name=op.f("fk_initiative_kpi_values_kpi_id_initiative_kpis"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_kpi_values")),
    )
    op.create_index(
        op.f("ix_initiative_kpi_values_kpi_id"), "initiative_kpi_values", ["kpi_id"], unique=False
    )
    op.create_table(
        "initiative_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_initiative_members_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_members_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_initiative_members_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_members")),
        sa.UniqueConstraint("initiative_id", "name", name="uq_initiative_member"),
    )
    op.create_index(
        op.f("ix_initiative_members_initiative_id"),
        "initiative_members",
        ["initiative_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_initiative_members_initiative_id"), table_name="initiative_members")
    op.drop_table("initiative_members")
    op.drop_index(op.f("ix_initiative_kpi_values_kpi_id"), table_name="initiative_kpi_values")
    op.drop_table("initiative_kpi_values")
    op.drop_table("initiative_owners")
    op.drop_index(op.f("ix_initiative_kpis_initiative_id"), table_name="initiative_kpis")
    op.drop_table("initiative_kpis")
    op.drop_table("initiatives")
