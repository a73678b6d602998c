"""when each callback is missed, kept on its row; the callbacks' index holds what the team
page counts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Issue #10, item 5: the team page read every callback due in its range, a row each (some 2,800
for five stores' 90 days at a million drafts), to judge each kept or missed in Python, because
"done within 15 minutes of its time" compares two columns with an interval between them, which
SQLite's text timestamps and PostgreSQL's do differently. `late_at` (due_at plus the grace,
written with the callback) turns it into a comparison of two columns, counted in SQL, and
`ix_callbacks_dealer_due` is widened so that count reads the index alone.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# resume.leads.CALLBACK_GRACE when this was written (a migration keeps its own copy).
GRACE = dt.timedelta(minutes=15)
BATCH = 5000


def upgrade() -> None:
    op.add_column("callbacks", sa.Column("late_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("UPDATE callbacks SET late_at = due_at + interval '15 minutes'"))
    else:
        # SQLite keeps timestamps as text in SQLAlchemy's format: worked out in Python, so the
        # text written is the format every other timestamp has (and sorts with it).
        table = sa.table(
            "callbacks",
            sa.column("id", sa.Integer()),
            sa.column("due_at", sa.DateTime()),
            sa.column("late_at", sa.DateTime()),
        )
        rows = bind.execute(sa.select(table.c.id, table.c.due_at)).all()
        update = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("key"))
            .values(late_at=sa.bindparam("late"))
        )
        for i in range(0, len(rows), BATCH):
            bind.execute(
                update, [{"key": r.id, "late": r.due_at + GRACE} for r in rows[i : i + BATCH]]
            )
    with op.batch_alter_table("callbacks") as batch:
        batch.alter_column("late_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.drop_index("ix_callbacks_dealer_due", table_name="callbacks")
    op.create_index(
        "ix_callbacks_dealer_due",
        "callbacks",
        ["dealer_id", "due_at", "staff_id", "late_at", "done_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_callbacks_dealer_due", table_name="callbacks")
    op.create_index("ix_callbacks_dealer_due", "callbacks", ["dealer_id", "due_at"])
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("late_at")
