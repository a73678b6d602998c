"""the team page's reads from wider indexes alone; the funnel's totals over its sources

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Issue #10, item 5 ("page times must not grow with the database"): at a million drafts the
team page read every lead of its range from the table, a row at a time, for its figures and
its two lists. Two indexes the lead list already used for its keyset pages by age are widened
with what the team page reads, so its figures (owner, attempts, response time, the stages
reached) and its open lists (when each lead entered its status, the last human action) come
from the index alone; the keyset pages keep their leading columns. The lead list filtered by
a status and the step shoppers left at (the issue's filtered list) gets an index of its own,
holding the widgets and the exit time it also tests, so its page is read in order and its
capped count from the index.

And the funnel's summary rows get their totals over the sources (`funnel_totals`), filled here
from `funnel_counts` and added to alongside it from now on: a funnel of every source read one
row per source per point a day, some 36,000 rows for five stores' 90 days at a million drafts.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = [
    "dealer_id",
    "captured_at",
    "id",
    "owner_id",
    "attempts",
    "first_attempt_at",
    "response_minutes",
    "contacted_at",
    "appointment_set_at",
    "shown_at",
    "sold_at",
]
AGE = ["dealer_id", "status", "captured_at", "id", "status_at", "human_at"]
EXIT = ["dealer_id", "status", "exit_step", "captured_at", "id", "exit_at", "widgets"]


def upgrade() -> None:
    op.create_table(
        "funnel_totals",
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealers.id"), primary_key=True),
        sa.Column("widget", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True, server_default=""),
        sa.Column("field", sa.String(64), primary_key=True, server_default=""),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.get_bind().execute(
        sa.text(
            "INSERT INTO funnel_totals (dealer_id, widget, day, kind, step, field, n) "
            "SELECT dealer_id, widget, day, kind, step, field, SUM(n) FROM funnel_counts "
            "GROUP BY dealer_id, widget, day, kind, step, field"
        )
    )
    op.create_index("ix_leads_captured_figures", "leads", FIGURES)
    op.drop_index("ix_leads_dealer_captured", table_name="leads")
    op.create_index("ix_leads_status_age", "leads", AGE)
    op.drop_index("ix_leads_dealer_status_captured", table_name="leads")
    op.create_index("ix_leads_status_exit", "leads", EXIT)


def downgrade() -> None:
    op.drop_index("ix_leads_status_exit", table_name="leads")
    op.create_index(
        "ix_leads_dealer_status_captured", "leads", ["dealer_id", "status", "captured_at", "id"]
    )
    op.drop_index("ix_leads_status_age", table_name="leads")
    op.create_index("ix_leads_dealer_captured", "leads", ["dealer_id", "captured_at", "id"])
    op.drop_index("ix_leads_captured_figures", table_name="leads")
    op.drop_table("funnel_totals")
