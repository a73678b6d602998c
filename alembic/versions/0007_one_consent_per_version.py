"""one consent per draft, kind and text version

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Concurrent "save and finish later" posts of one page each recorded the consent they carried
(issue #12). Duplicates are removed, keeping the first, before the constraint is made; a
consent a pre-qualification names is never removed.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM consents WHERE id NOT IN (SELECT consent_id FROM prequals) AND EXISTS ("
        "SELECT 1 FROM consents AS first WHERE first.draft_id = consents.draft_id "
        "AND first.kind = consents.kind AND first.text_version = consents.text_version "
        "AND first.id < consents.id)"
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_consents_draft_kind_version", ["draft_id", "kind", "text_version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_consents_draft_kind_version", type_="unique")
