"""the funnel's summary rows, each draft's and lead's cohort, the stages a lead reached

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Issue #10, items 2 and 5: the funnel reads a range from summary rows kept in the transactions
that record what they count (design rule 12), never from the drafts. The rows for the drafts
already stored are counted by `resume migrate` once this revision is in place
(resume.funnel_rebuild), since counting them needs the widgets' definitions, which a
migration must not import. A partial index serves the exit detector, another the team page's
open leads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDLE = "exit_at IS NULL AND status <> 'completed'"
OPEN = "status NOT IN ('sold', 'lost')"


def upgrade() -> None:
    op.create_table(
        "funnel_counts",
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealers.id"), nullable=False),
        sa.Column("widget", sa.String(32), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("step", sa.String(64), nullable=False, server_default=""),
        sa.Column("field", sa.String(64), nullable=False, server_default=""),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "widget", "day", "source", "kind", "step", "field"),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_day", sa.String(10), nullable=True))
        batch_op.add_column(
            sa.Column("cohort_source", sa.String(64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("first_exit_step", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("first_exit_field", sa.String(64), nullable=True))
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_day", sa.String(10), nullable=True))
        batch_op.add_column(
            sa.Column("cohort_widget", sa.String(32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("cohort_source", sa.String(64), nullable=False, server_default="")
        )
        for name in ("contacted_at", "appointment_set_at", "shown_at", "sold_at"):
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("response_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("human_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_drafts_idle",
        "drafts",
        ["updated_at"],
        sqlite_where=sa.text(IDLE),
        postgresql_where=sa.text(IDLE),
    )
    op.create_index(
        "ix_leads_dealer_status_captured",
        "leads",
        ["dealer_id", "status", "captured_at", "id"],
    )
    op.create_index(
        "ix_leads_open",
        "leads",
        ["dealer_id", "last_activity_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM drafts LIMIT 1")).first() is None:
        # Nothing stored yet, so nothing to count: the running counts are the whole story.
        bind.execute(sa.text("INSERT INTO meta (name, value) VALUES ('funnel_counted', '1')"))


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM meta WHERE name = 'funnel_counted'"))
    op.drop_index("ix_leads_open", table_name="leads")
    op.drop_index("ix_leads_dealer_status_captured", table_name="leads")
    op.drop_index("ix_drafts_idle", table_name="drafts")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for name in (
            "status_at",
            "human_at",
            "response_minutes",
            "sold_at",
            "shown_at",
            "appointment_set_at",
            "contacted_at",
            "cohort_source",
            "cohort_widget",
            "cohort_day",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("first_exit_field")
        batch_op.drop_column("first_exit_step")
        batch_op.drop_column("cohort_source")
        batch_op.drop_column("cohort_day")
    op.drop_table("funnel_counts")
