"""personal data: sealed values, pre-qualifications, carried drafts, key check

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("field_values", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sealed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            "fk_drafts_origin_id", "drafts", ["origin_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_drafts_origin", ["origin_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_draft", ["draft_id"], unique=False)
    op.create_table(
        "prequals",
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["consent_id"], ["consents.id"]),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("draft_id"),
    )
    op.create_table(
        "meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("prequals")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_draft")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_origin")
        batch_op.drop_constraint("fk_drafts_origin_id", type_="foreignkey")
        batch_op.drop_column("origin_id")
    with op.batch_alter_table("field_values", schema=None) as batch_op:
        batch_op.drop_column("sealed")
