"""sales dashboard: staff accounts with MFA and sessions, leads, follow-through, audit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Staff accounts were one row per dealership; an account now covers several (staff_dealers),
so the table is rebuilt: rows with the same email become one account covering each of their
dealerships, keeping the lowest id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    old = bind.execute(
        sa.text("SELECT id, dealer_id, email, role, password_hash, created_at FROM staff ORDER BY id")
    ).fetchall()
    op.drop_table("staff")
    staff = op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=120), server_default="", nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="invited", nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_step", sa.BigInteger(), nullable=True),
        sa.Column("invite_nonce", sa.String(length=64), nullable=True),
        sa.Column("invited_at", TS, nullable=True),
        sa.Column("away", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    staff_dealers = op.create_table(
        "staff_dealers",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "dealer_id"),
    )
    op.create_index("ix_staff_dealers_dealer", "staff_dealers", ["dealer_id"], unique=False)
    accounts: dict[str, dict[str, object]] = {}
    covers: set[tuple[int, int]] = set()
    for row in old:
        email = row.email.strip().lower()
        kept = accounts.setdefault(
            email,
            {
                "id": row.id,
                "email": email,
                "role": row.role,
                # Seeded accounts never had a password: they are invited, not active.
                "status": "invited",
                "created_at": row.created_at,
            },
        )
        covers.add((int(kept["id"]), row.dealer_id))  # type: ignore[call-overload]
    if accounts:
        op.bulk_insert(staff, list(accounts.values()))
        op.bulk_insert(
            staff_dealers, [{"staff_id": s, "dealer_id": d} for s, d in sorted(covers)]
        )
    if bind.dialect.name == "postgresql":
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('staff', 'id'), "
                "COALESCE((SELECT MAX(id) FROM staff), 0) + 1, false)"
            )
        )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("mfa_done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("reauth_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_why", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=64), server_default="", nullable=False),
        sa.Column("user_agent", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_sessions_staff", "staff_sessions", ["staff_id"], unique=False)
    op.create_table(
        "recovery_codes",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "code_hash"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=120), server_default="", nullable=False),
        sa.Column("status", sa.String(length=24), server_default="new", nullable=False),
        sa.Column("lost_reason", sa.String(length=32), nullable=True),
        sa.Column("appointment_at", TS, nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", TS, nullable=False),
        sa.Column("first_attempt_at", TS, nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_activity_at", TS, nullable=False),
        sa.Column("widgets", sa.String(length=200), server_default="", nullable=False),
        sa.Column("widget", sa.String(length=32), server_default="", nullable=False),
        sa.Column("step", sa.String(length=64), server_default="", nullable=False),
        sa.Column("exit_at", TS, nullable=True),
        sa.Column("exit_step", sa.String(length=64), nullable=True),
        sa.Column("exit_field", sa.String(length=64), nullable=True),
        sa.Column("came_back_at", TS, nullable=True),
        sa.Column("callback_due_at", TS, nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("followup_stopped", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["duplicate_of"], ["leads.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, columns in (
        ("ix_leads_dealer_activity", ["dealer_id", "last_activity_at", "id"]),
        ("ix_leads_dealer_captured", ["dealer_id", "captured_at", "id"]),
        ("ix_leads_dealer_owner", ["dealer_id", "owner_id", "last_activity_at"]),
        ("ix_leads_dealer_email", ["dealer_id", "email"]),
        ("ix_leads_dealer_phone", ["dealer_id", "phone"]),
    ):
        op.create_index(name, "leads", columns, unique=False)
    op.create_table(
        "lead_activity",
        sa.Column("id", BIG, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_activity_lead", "lead_activity", ["lead_id", "id"], unique=False)
    op.create_index(
        "ix_lead_activity_dealer_at", "lead_activity", ["dealer_id", "at"], unique=False
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_lead", "callbacks", ["lead_id"], unique=False)
    op.create_index("ix_callbacks_dealer_due", "callbacks", ["dealer_id", "due_at"], unique=False)
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("low_cents", sa.BigInteger(), nullable=False),
        sa.Column("high_cents", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_offers_draft", "offers", ["draft_id", "id"], unique=False)
    op.create_table(
        "audit",
        sa.Column("id", BIG, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), server_default="", nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_dealer_at", "audit", ["dealer_id", "at"], unique=False)
    op.create_index("ix_audit_at", "audit", ["at"], unique=False)
    _append_only("audit")
    op.create_table(
        "limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_foreign_key(
            "fk_drafts_lead_id", "leads", ["lead_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_drafts_lead", ["lead_id"], unique=False)
    # The old statuses become the new ones' names.
    op.execute("UPDATE drafts SET lead_status = 'appointment_set' WHERE lead_status = 'appointment'")


def _append_only(table: str) -> None:
    """Make the database itself refuse to change or delete a row of `table`."""
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    op.execute("UPDATE drafts SET lead_status = 'appointment' WHERE lead_status LIKE 'appoint%'")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_lead")
        batch_op.drop_constraint("fk_drafts_lead_id", type_="foreignkey")
        batch_op.drop_column("demo")
        batch_op.drop_column("lead_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    for table in (
        "limits",
        "audit",
        "offers",
        "callbacks",
        "lead_activity",
        "leads",
        "recovery_codes",
        "staff_sessions",
        "staff_dealers",
    ):
        op.drop_table(table)
    # The old table had one row per dealership and no MFA: accounts do not survive a downgrade.
    op.drop_table("staff")
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dealer_id", "email"),
    )
