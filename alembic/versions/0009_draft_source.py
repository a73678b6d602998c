"""where a shopper came from: the campaign, the dealer's placement label and page, and the
origin that framed the widget, as the draft's first save found them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Issue #10, item 1: the funnel and the lead list read a draft's source by dealership and date,
so each part is a column of its own (nullable: drafts saved before this have none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("utm_source", 100),
    ("utm_medium", 100),
    ("utm_campaign", 100),
    ("src", 64),
    ("page", 500),
    ("referrer", 200),
)


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
