"""the dashboard's outbox page reads a dealership's messages of one status, newest first

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Without an index led by the dealership, the outbox page and the kept-mail list scanned every
message of the status across the installation (noticed building issue #13's pages).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_dealer_status", "outbox", ["dealer_id", "status", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_dealer_status", table_name="outbox")
