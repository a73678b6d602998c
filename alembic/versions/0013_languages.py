"""the language each draft is shown in and each consent was given in; a logo file we keep

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Issue #11, items 4 and 6: a draft remembers its language, so its resume link and its
follow-ups speak it too; a consent records the language of the words shown; a dealer's logo
may be a file stored by us and served from our own origin.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(8), nullable=False, server_default="en"))
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(8), nullable=False, server_default="en")
        )
    op.create_table(
        "dealer_logos",
        sa.Column(
            "dealer_id",
            sa.Integer(),
            sa.ForeignKey("dealers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dealer_logos")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("lang")
