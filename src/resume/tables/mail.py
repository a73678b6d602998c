"""Outgoing mail: the addresses it must not go to, and the outbox."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from resume.tables.base import Timestamp, metadata

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    # Lower-cased: one address, however it was typed, is suppressed once.
    Column("email", String(320), nullable=False),
    # unsubscribe, bounce (a permanent SMTP failure) or manual.
    Column("reason", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Column("at", Timestamp(), nullable=False),
    UniqueConstraint("dealer_id", "email"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("draft_id", ForeignKey("drafts.id", ondelete="SET NULL"), nullable=True),
    # What to build: the email template family and the context it needs (opaque ids only).
    Column("kind", String(32), nullable=False),
    Column("context", JSON, nullable=False),
    Column("to_addr", String(320), nullable=False),
    # Fixed at enqueue so a message sent twice is recognisably the same message (rule 9).
    Column("message_id", String(200), nullable=False, unique=True),
    # One row per logical message however many processes try to enqueue it.
    Column("dedupe_key", String(200), nullable=True, unique=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", Timestamp(), nullable=False),
    Column("leased_until", Timestamp(), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("sent_at", Timestamp(), nullable=True),
    Column("reply", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_outbox_due", "status", "due_at"),
    # The dashboard's outbox: a dealership's messages of one status, newest first (issue #13).
    Index("ix_outbox_dealer_status", "dealer_id", "status", "id"),
    # A draft's mail: stop rules and the purge find it by draft.
    Index("ix_outbox_draft", "draft_id"),
)
