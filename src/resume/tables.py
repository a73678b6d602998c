"""SQLAlchemy Core tables. alembic/versions/ creates them; keep the two in step."""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

metadata = MetaData()


class Timestamp(TypeDecorator[dt.datetime]):
    """A UTC instant: aware datetimes in, aware datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite keeps text; naive UTC text sorts and compares correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


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

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("role", String(32), nullable=False),
    # Set by the dashboard issue; a seeded account has none until then.
    Column("password_hash", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    UniqueConstraint("dealer_id", "email"),
)

drafts = Table(
    "drafts",
    metadata,
    # Random, unguessable, opaque: the only thing a token carries besides the version.
    Column("id", String(32), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("widget", String(32), nullable=False),
    # Bumped to revoke every link and form credential issued so far (design rule 5).
    Column("version", Integer, nullable=False, server_default="1"),
    # Bumped on every save; lets a process trust its cached copy of the draft.
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("step", String(64), nullable=False),
    Column("reached", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("wants_showroom", Boolean, nullable=False, server_default=false()),
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Column("resumed_at", Timestamp(), nullable=True),
    Column("completed_at", Timestamp(), nullable=True),
    Column("link_sent_at", Timestamp(), nullable=True),
    # Set when the shopper is found to have left (issue #4); a save clears it. `exits` counts
    # them, so each exit's follow-ups have their own keys.
    Column("exit_at", Timestamp(), nullable=True),
    Column("exits", Integer, nullable=False, server_default="0"),
    # The sales team's view of the lead: new, contacted, appointment, sold, lost. Anything past
    # "new" stops the automatic follow-up (issue #4).
    Column("lead_status", String(16), nullable=False, server_default="new"),
    # The draft this one was started from (a trade-in carried into the payment widget): the
    # same shopper, so the two are one lead.
    Column("origin_id", ForeignKey("drafts.id", ondelete="SET NULL"), nullable=True),
    Index("ix_drafts_dealer_updated", "dealer_id", "updated_at"),
    # Deleting a draft (the purge) looks for the drafts carried from it.
    Index("ix_drafts_origin", "origin_id"),
)

field_values = Table(
    "field_values",
    metadata,
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("step", String(64), nullable=False),
    # Exactly what the shopper typed, valid or not (design rule 3); for a field the widget
    # marks sensitive, that text sealed under RESUME_DATA_KEYS (resume.keyring).
    Column("value", Text, nullable=False),
    Column("sealed", Boolean, nullable=False, server_default=false()),
    Column("valid", Boolean, nullable=False),
    Column("error", Text, nullable=True),
    Column("changed_at", Timestamp(), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), nullable=True),
    Column("widget", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("step", String(64), nullable=True),
    Column("field", String(64), nullable=True),
    Column("at", Timestamp(), nullable=False),
    Index("ix_events_draft", "draft_id"),
    Index("ix_events_dealer_at", "dealer_id", "at"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text_version", String(32), nullable=False),
    Column("text_hash", String(64), nullable=False),
    # The exact words the shopper agreed to, so an audit never depends on old code.
    Column("text", Text, nullable=False),
    Column("at", Timestamp(), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("user_agent", Text, nullable=False),
    Index("ix_consents_draft", "draft_id"),
)

prequals = Table(
    "prequals",
    metadata,
    # One per draft, ever (issue #3): the row is claimed before the provider is asked.
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    # The "I agree" under the written-instructions notice that allowed it.
    Column("consent_id", ForeignKey("consents.id"), nullable=False),
    Column("provider", String(32), nullable=False),
    # running, done or failed.
    Column("status", String(16), nullable=False),
    # The provider's answer as JSON, sealed: it is derived from income and debts.
    Column("result", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Column("finished_at", Timestamp(), nullable=True),
)

meta = Table(
    "meta",
    metadata,
    # Facts about this installation, e.g. the sealed value that checks the data keys.
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

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
    # A draft's mail: stop rules and the purge find it by draft.
    Index("ix_outbox_draft", "draft_id"),
)
