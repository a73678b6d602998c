"""The dealerships (tenants), their logos, and the staff who cover them: accounts,
the stores each covers, sessions and recovery codes."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
)

from resume.tables.base import Timestamp, metadata

dealers = Table(
    "dealers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("lead_email", String(320), nullable=False),
    Column("address", Text, nullable=False),
    Column("phone", String(32), nullable=False, server_default=""),
    Column("timezone", String(64), nullable=False, server_default="America/New_York"),
    # Exact origins allowed to frame the widgets (CSP frame-ancestors); never "*".
    Column("origins", JSON, nullable=False),
    # Finance defaults, theme and policy switches: see resume.dealers.DealerConfig.
    Column("config", JSON, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
)

# A logo file stored by us and served from our own origin (issue #11, item 4).
dealer_logos = Table(
    "dealer_logos",
    metadata,
    Column("dealer_id", ForeignKey("dealers.id", ondelete="CASCADE"), primary_key=True),
    Column("content_type", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    # Lower-cased; one account per person, however many dealerships it covers (staff_dealers).
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(120), nullable=False, server_default=""),
    Column("role", String(32), nullable=False),
    # invited (no password or MFA yet), active, or disabled.
    Column("status", String(16), nullable=False, server_default="invited"),
    Column("password_hash", Text, nullable=True),
    # The TOTP key, sealed under RESUME_DATA_KEYS like a shopper's sensitive answers.
    Column("totp_secret", Text, nullable=True),
    # The last time step a code was accepted in: a code is never accepted twice (replay).
    Column("totp_step", BigInteger, nullable=True),
    # Changes on every invitation, so only the newest link works, and only once.
    Column("invite_nonce", String(64), nullable=True),
    Column("invited_at", Timestamp(), nullable=True),
    # A rep who is away gets no round-robin leads.
    Column("away", Boolean, nullable=False, server_default=false()),
    Column("created_at", Timestamp(), nullable=False),
)

staff_dealers = Table(
    "staff_dealers",
    metadata,
    # The dealerships an account covers: every staff query is scoped by these (rule 11).
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    # Round-robin: the next lead of a dealership goes to whoever had one longest ago.
    Column("last_assigned_at", Timestamp(), nullable=True),
    Index("ix_staff_dealers_dealer", "dealer_id"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    # The SHA-256 of the cookie's token: a copy of this table holds no usable session.
    Column("id", String(64), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), nullable=False),
    # False between the password and the code: such a session may only enter a code.
    Column("mfa_done", Boolean, nullable=False, server_default=false()),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("last_seen_at", Timestamp(), nullable=False),
    # When the password was last typed: changing the password or MFA needs it recent.
    Column("reauth_at", Timestamp(), nullable=False),
    Column("ended_at", Timestamp(), nullable=True),
    Column("ended_why", String(32), nullable=True),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("user_agent", Text, nullable=False, server_default=""),
    Index("ix_staff_sessions_staff", "staff_id"),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("code_hash", String(64), primary_key=True),
    Column("used_at", Timestamp(), nullable=True),
)
