"""the funnel's source list read from its started rows alone

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Issue #10, item 5: the funnel's source list sums the drafts begun in a range by source. In
funnel_counts' key (dealership, widget, day, source, kind, ...) the range's rows of every
kind lie between those it sums: once every draft's exit was counted (as the worker records
them), five stores' 90 days of payment drafts at a million held 36,741 rows for 3,496 started
ones. A partial index of the started rows, which only a draft's first save moves.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTED = "kind = 'started'"


def upgrade() -> None:
    op.create_index(
        "ix_funnel_counts_started",
        "funnel_counts",
        ["dealer_id", "widget", "day", "source", "kind", "n"],
        sqlite_where=sa.text(STARTED),
        postgresql_where=sa.text(STARTED),
    )


def downgrade() -> None:
    op.drop_index("ix_funnel_counts_started", table_name="funnel_counts")
