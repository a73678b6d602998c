"""the lead list at scale: follow-ups sent kept on the lead, a status index, a wider status

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

bench/dashboard.py at 100,000 drafts (issue #9) found the list's count of follow-ups sent
planned on SQLite through ix_outbox_due (every sent email in the database, 300 ms a page):
the count is now a column of the lead, added to as each one is sent, and backfilled here.
The status filter gets an index of its own. drafts.lead_status was 16 characters, too short
for "appointment_confirmed" on PostgreSQL (SQLite does not enforce the length, so only
PostgreSQL's column is widened; rebuilding SQLite's drafts table would change nothing).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("touches_sent", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_leads_dealer_status", ["dealer_id", "status", "last_activity_at"], unique=False
        )
    op.execute(
        "UPDATE leads SET touches_sent = (SELECT count(*) FROM outbox JOIN drafts "
        "ON drafts.id = outbox.draft_id WHERE drafts.lead_id = leads.id "
        "AND outbox.kind = 'followup' AND outbox.status = 'sent')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "drafts",
            "lead_status",
            type_=sa.String(length=24),
            existing_type=sa.String(length=16),
            existing_nullable=False,
            existing_server_default="new",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE drafts SET lead_status = 'appointment_set' "
            "WHERE lead_status = 'appointment_confirmed'"
        )
        op.alter_column(
            "drafts",
            "lead_status",
            type_=sa.String(length=16),
            existing_type=sa.String(length=24),
            existing_nullable=False,
            existing_server_default="new",
        )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_dealer_status")
        batch_op.drop_column("touches_sent")
