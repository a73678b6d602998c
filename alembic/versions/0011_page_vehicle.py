"""the vehicle as the dealer's page passed it on the iframe's URL, kept with the draft

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Issue #11, item 1: a shopper who changes the car the page named keeps both; staff see both.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_vehicle", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("page_vehicle")
