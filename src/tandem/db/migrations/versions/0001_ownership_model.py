"""ownership model

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:16:30.028658
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("customer_facing", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capabilities")),
        sa.UniqueConstraint("key", name=op.f("uq_capabilities_key")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=200), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("has_digital_revenue_team", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    op.create_table(
        "functions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_functions")),
        sa.UniqueConstraint("key", name=op.f("uq_functions_key")),
    )
    op.create_table(
        "governance_bodies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('steering_committee', 'digital_team', 'other')",
            name=op.f("ck_governance_bodies_body_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_bodies")),
        sa.UniqueConstraint("key", name=op.f("uq_governance_bodies_key")),
    )
    op.create_table(
        "governance_members",
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["governance_bodies.id"],
            name=op.f("fk_governance_members_body_id_governance_bodies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_governance_members_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("body_id", "function_id", name=op.f("pk_governance_members")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("is_head", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_people_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            "uq_people_one_head",
            ["function_id"],
            unique=True,
            sqlite_where=sa.text("is_head"),
            postgresql_where=sa.text("is_head"),
        )

    op.create_table(
        "reporting_lines",
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["governance_bodies.id"],
            name=op.f("fk_reporting_lines_body_id_governance_bodies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_reporting_lines_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("body_id", "function_id", name=op.f("pk_reporting_lines")),
    )
    op.create_table(
        "responsibilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capability_id", sa.Integer(), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.CheckConstraint(
            "role IN ('R', 'A', 'C', 'I')", name=op.f("ck_responsibilities_raci_role")
        ),
        sa.ForeignKeyConstraint(
            ["capability_id"],
            ["capabilities.id"],
            name=op.f("fk_responsibilities_capability_id_capabilities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["function_id"],
            ["functions.id"],
            name=op.f("fk_responsibilities_function_id_functions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibilities")),
        sa.UniqueConstraint("capability_id", "function_id", "role", name="uq_responsibility"),
    )
    with op.batch_alter_table("responsibilities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_responsibilities_capability_id"), ["capability_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_responsibilities_function_id"), ["function_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("responsibilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responsibilities_function_id"))
        batch_op.drop_index(batch_op.f("ix_responsibilities_capability_id"))

    op.drop_table("responsibilities")
    op.drop_table("reporting_lines")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_people_one_head",
            sqlite_where=sa.text("is_head"),
            postgresql_where=sa.text("is_head"),
        )

    op.drop_table("people")
    op.drop_table("governance_members")
    op.drop_table("governance_bodies")
    op.drop_table("functions")
    op.drop_table("company")
    op.drop_table("capabilities")
