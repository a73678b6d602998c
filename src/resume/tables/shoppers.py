"""A shopper's drafts and what they hold: the values typed, the events, the consents
given and the pre-qualification asked for."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from resume.tables.base import Timestamp, metadata

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
    Column("lead_status", String(24), nullable=False, server_default="new"),
    # The draft this one was started from (a trade-in carried into the payment widget): the
    # same shopper, so the two are one lead.
    Column("origin_id", ForeignKey("drafts.id", ondelete="SET NULL"), nullable=True),
    # The shopper this draft belongs to, from its first valid email or phone (issue #9).
    Column("lead_id", ForeignKey("leads.id", ondelete="SET NULL"), nullable=True),
    # Seeded by `resume demo`: shown in the dashboard, never emailed.
    Column("demo", Boolean, nullable=False, server_default=false()),
    # Where the shopper came from, as the first save found it (resume.source, issue #10).
    Column("utm_source", String(100), nullable=True),
    Column("utm_medium", String(100), nullable=True),
    Column("utm_campaign", String(100), nullable=True),
    Column("src", String(64), nullable=True),
    Column("page", String(500), nullable=True),
    Column("referrer", String(200), nullable=True),
    # The vehicle as the dealer's page passed it (resume.page_vehicle, issue #11).
    Column("page_vehicle", JSON, nullable=True),
    # The draft's cohort in the funnel (issue #10): the day it began, on the dealership's
    # clock, and its source's key (resume.queries.funnel.source_key).
    Column("cohort_day", String(10), nullable=True),
    Column("cohort_source", String(64), nullable=False, server_default=""),
    # Where it first left (the funnel counts a draft's first exit, issue #10).
    Column("first_exit_step", String(64), nullable=True),
    Column("first_exit_field", String(64), nullable=True),
    # The language its pages, resume link and follow-ups speak (resume.i18n, issue #11).
    Column("lang", String(8), nullable=False, server_default="en"),
    Index("ix_drafts_dealer_updated", "dealer_id", "updated_at"),
    Index("ix_drafts_lead", "lead_id"),
    # Deleting a draft (the purge) looks for the drafts carried from it.
    Index("ix_drafts_origin", "origin_id"),
    # The exit detector's candidates: open drafts with no exit since their last save. Partial,
    # so it holds only the drafts still in play, not the year of finished ones.
    Index(
        "ix_drafts_idle",
        "updated_at",
        sqlite_where=text("exit_at IS NULL AND status <> 'completed'"),
        postgresql_where=text("exit_at IS NULL AND status <> 'completed'"),
    ),
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
    # The language of the words shown (issue #11, item 6).
    Column("language", String(8), nullable=False, server_default="en"),
    Index("ix_consents_draft", "draft_id"),
    # One record per draft, kind and text version, however many posts carry it (issue #12).
    UniqueConstraint("draft_id", "kind", "text_version", name="uq_consents_draft_kind_version"),
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
