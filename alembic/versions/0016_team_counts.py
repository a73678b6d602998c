"""the team page's figures kept by store, day and owner; each lead's capture day

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Issue #10, item 5: the team page counted the leads of its range one by one (five stores' 90
days are some 19,000 leads at a million drafts, grouped by owner: the largest statement of
its slowest page). `team_counts` keeps those figures by store, capture day and owner, moved
in the transaction that changes a lead (resume.queries.team_counts), so the page reads a few
rows a day. `leads.captured_day` is the day a lead belongs to, on its store's clock.

The table starts empty and the days unset: `resume migrate` fills both afterwards from the
leads stored (resume.dashboard.funnel.count_stored_drafts), as it counts the funnel, because
a day on a store's clock needs its timezone, which SQL on SQLite cannot work out.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("captured_day", sa.String(10), nullable=True))
    op.create_table(
        "team_counts",
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealers.id"), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("owner", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False, server_default="0"),
        *(
            sa.Column(f"attempts_{k}", sa.Integer(), nullable=False, server_default="0")
            for k in range(6)
        ),
        sa.Column("contacted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("appointment", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("shown", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sold", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("minutes", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("team_counts")
    op.execute(sa.text("DELETE FROM meta WHERE name = 'team_counted'"))
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("captured_day")
