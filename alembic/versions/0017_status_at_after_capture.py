"""a lead enters its status no earlier than its capture

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Issue #10, item 5: the team page's stuck view lists the leads longest over their status's
limit. Read in `ix_leads_status_age`'s order (by capture), it can stop at the capture time
past which no lead can be among the earliest only if no lead entered its status before it
was captured. The writers keep that from now on (resume.queries.leads.add_activity,
keep_timeline_times); this moves the rows a past written out of order (the demo's) left
before it to their capture.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE leads SET status_at = captured_at WHERE status_at < captured_at"))


def downgrade() -> None:
    # The earlier times are not kept: nothing reads them.
    pass
