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
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()
# The rows of funnel_counts ix_funnel_counts_started holds; a query that reads it says so in
# these words (SQLite uses a partial index only for a WHERE it can see implies the index's).
STARTED = "kind = 'started'"


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
    # The dashboard's outbox: a dealership's messages of one status, newest first (issue #13).
    Index("ix_outbox_dealer_status", "dealer_id", "status", "id"),
    # A draft's mail: stop rules and the purge find it by draft.
    Index("ix_outbox_draft", "draft_id"),
)


leads = Table(
    "leads",
    metadata,
    # One shopper at one dealership: the drafts that share a normalised email or phone.
    Column("id", Integer, primary_key=True),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("name", String(120), nullable=False, server_default=""),
    # new, attempting, contacted, appointment_set, appointment_confirmed, shown, no_show,
    # sold, lost (resume.leads.STATUSES).
    Column("status", String(24), nullable=False, server_default="new"),
    Column("lost_reason", String(32), nullable=True),
    Column("appointment_at", Timestamp(), nullable=True),
    Column("owner_id", ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    # When the shopper became contactable, and the human follow-through since.
    Column("captured_at", Timestamp(), nullable=False),
    Column("first_attempt_at", Timestamp(), nullable=True),
    Column("last_attempt_at", Timestamp(), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Automatic follow-ups sent so far, added to as each is sent: the list shows it per row.
    Column("touches_sent", Integer, nullable=False, server_default="0"),
    Column("last_activity_at", Timestamp(), nullable=False),
    # The widgets this shopper used, comma-separated in the order they began them.
    Column("widgets", String(200), nullable=False, server_default=""),
    # Where the shopper is now (widget/step), and where they left if they did.
    Column("widget", String(32), nullable=False, server_default=""),
    Column("step", String(64), nullable=False, server_default=""),
    Column("exit_at", Timestamp(), nullable=True),
    Column("exit_step", String(64), nullable=True),
    Column("exit_field", String(64), nullable=True),
    # Set when the shopper came back (resumed from a link, or saved after an exit).
    Column("came_back_at", Timestamp(), nullable=True),
    # The earliest promised callback not yet done: "needs action" without a join.
    Column("callback_due_at", Timestamp(), nullable=True),
    # Another lead with this one's phone or email: possibly the same person.
    Column("duplicate_of", ForeignKey("leads.id", ondelete="SET NULL"), nullable=True),
    # Staff stopped the automatic follow-up for this shopper.
    Column("followup_stopped", Boolean, nullable=False, server_default=false()),
    Column("demo", Boolean, nullable=False, server_default=false()),
    # The cohort of the draft that captured the lead (the funnel's downstream figures), and
    # when the lead first reached each stage past contact, whatever its status is now.
    Column("cohort_day", String(10), nullable=True),
    Column("cohort_widget", String(32), nullable=False, server_default=""),
    Column("cohort_source", String(64), nullable=False, server_default=""),
    Column("contacted_at", Timestamp(), nullable=True),
    Column("appointment_set_at", Timestamp(), nullable=True),
    Column("shown_at", Timestamp(), nullable=True),
    Column("sold_at", Timestamp(), nullable=True),
    # Business minutes from capture to the first human attempt (resume.leads.clock), worked
    # out once when that attempt is logged, so a range's response times are read, not counted.
    Column("response_minutes", Integer, nullable=True),
    # The newest thing a person on the team did about the lead, and when it entered its
    # status (None: nothing yet, in its first status since capture): the team page's lists.
    Column("human_at", Timestamp(), nullable=True),
    Column("status_at", Timestamp(), nullable=True),
    # The day it was captured on the store's clock: its row in team_counts (None until
    # `resume migrate` counts the leads stored before team_counts existed).
    Column("captured_day", String(10), nullable=True),
    # Keyset pages of a dealership's leads, by last activity or by age.
    Index("ix_leads_dealer_activity", "dealer_id", "last_activity_at", "id"),
    # By age (the lead list's keyset pages), with what the team page's figures pick their
    # leads by, so the list behind a figure (attempts=5, response=15...) is filtered from the
    # index alone (issue #10).
    Index(
        "ix_leads_captured_figures",
        "dealer_id",
        "captured_at",
        "id",
        "owner_id",
        "attempts",
        "first_attempt_at",
        "response_minutes",
        "contacted_at",
        "appointment_set_at",
        "shown_at",
        "sold_at",
    ),
    Index("ix_leads_dealer_owner", "dealer_id", "owner_id", "last_activity_at"),
    Index("ix_leads_dealer_status", "dealer_id", "status", "last_activity_at"),
    # A status's leads by age: one dealership's page read in order (queries.lead_list.page);
    # with when each entered its status and was last touched by a person, so the team page's
    # open lists (stuck, no human action) are read from the index alone (issue #10).
    Index(
        "ix_leads_status_age", "dealer_id", "status", "captured_at", "id", "status_at", "human_at"
    ),
    # A status's leads that left at one step, by age, with the widgets and exit time the list
    # also tests: the filtered list's page in order and its capped count, from the index alone.
    Index(
        "ix_leads_status_exit",
        "dealer_id",
        "status",
        "exit_step",
        "captured_at",
        "id",
        "exit_at",
        "widgets",
    ),
    Index("ix_leads_dealer_email", "dealer_id", "email"),
    Index("ix_leads_dealer_phone", "dealer_id", "phone"),
    # The team page's open leads (no human action for a day, stuck in a status): partial, so
    # a year of sold and lost leads is not in it.
    Index(
        "ix_leads_open",
        "dealer_id",
        "last_activity_at",
        sqlite_where=text("status NOT IN ('sold', 'lost')"),
        postgresql_where=text("status NOT IN ('sold', 'lost')"),
    ),
)

# The team page's figures (issue #10, item 5), kept as the leads they count change, in the
# same transaction (resume.queries.team_counts): a row per store, capture day on its clock and
# owner, so a range is read as a few rows a day, not a row a lead.
team_counts = Table(
    "team_counts",
    metadata,
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    # The lead's owner, 0 for nobody (a key can't be NULL); no foreign key for that reason.
    Column("owner", Integer, primary_key=True),
    Column("n", Integer, nullable=False, server_default="0"),
    # How many have had 0, 1, 2, 3, 4, and 5 or more attempts.
    *(Column(f"attempts_{k}", Integer, nullable=False, server_default="0") for k in range(6)),
    # How many ever reached each stage; shown counts those with an appointment set.
    Column("contacted", Integer, nullable=False, server_default="0"),
    Column("appointment", Integer, nullable=False, server_default="0"),
    Column("shown", Integer, nullable=False, server_default="0"),
    Column("sold", Integer, nullable=False, server_default="0"),
    # The business minutes each answered lead waited, comma-separated, in no order: a range's
    # median and 90th percentile are exact, read from these.
    Column("minutes", Text, nullable=False, server_default=""),
)

funnel_counts = Table(
    "funnel_counts",
    metadata,
    # The funnel's summary rows (issue #10, design rule 12): how many drafts of a cohort (a
    # dealership's widget, the day the drafts began, their source) reached each point, added
    # to in the transaction that records the moment, so a range is read from these rows and
    # never from the drafts. `kind` is started, reached (a step), exited (a step and the
    # field), captured, resumed, completed, or contacted, appointment, shown, sold (a lead's
    # stage, counted in the cohort of the draft that captured it). Each draft or lead is
    # counted once per kind and step: a second exit is not a second draft exiting.
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("widget", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("step", String(64), primary_key=True, server_default=""),
    Column("field", String(64), primary_key=True, server_default=""),
    Column("n", Integer, nullable=False),
    # The source list's counts (queries.funnel.sources): the drafts begun, by source, from
    # their rows alone. In the key, a range's rows of every kind lie between them: with every
    # draft's exit counted, five stores' 90 days of payment drafts at a million held 36,741
    # rows for 3,496 started ones. Partial, so only a draft's first save (its started row)
    # moves it; `kind` in it, so SQLite reads nothing else (5.4 -> 0.8 ms there).
    Index(
        "ix_funnel_counts_started",
        "dealer_id",
        "widget",
        "day",
        "source",
        "kind",
        "n",
        sqlite_where=text(STARTED),
        postgresql_where=text(STARTED),
    ),
)

funnel_totals = Table(
    "funnel_totals",
    metadata,
    # funnel_counts summed over the sources, added to in the same statement batch (issue #10):
    # a funnel of every source reads a row per point a day, not one per source as well (at a
    # million drafts the sources made a five-store, 90-day page read some 36,000 rows).
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("widget", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("step", String(64), primary_key=True, server_default=""),
    Column("field", String(64), primary_key=True, server_default=""),
    Column("n", Integer, nullable=False),
)

lead_activity = Table(
    "lead_activity",
    metadata,
    # What staff did about a lead, for its timeline: attempts, statuses, notes, owners,
    # callbacks, offers, reveals, links sent, follow-up stopped. Never a sensitive value.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("lead_id", ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("staff_id", ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    Column("kind", String(24), nullable=False),
    Column("at", Timestamp(), nullable=False),
    # An attempt's channel and outcome; a status's new value.
    Column("channel", String(16), nullable=True),
    Column("outcome", String(24), nullable=True),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_lead_activity_lead", "lead_id", "id"),
    Index("ix_lead_activity_dealer_at", "dealer_id", "at"),
)

callbacks = Table(
    "callbacks",
    metadata,
    # A callback a rep promised ("I'll call back at 2:30 tomorrow").
    Column("id", Integer, primary_key=True),
    Column("lead_id", ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("staff_id", ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    Column("due_at", Timestamp(), nullable=False),
    # When it is missed if not done: due_at + resume.leads.CALLBACK_GRACE, kept on the row
    # so the team page counts promises kept in SQL (done_at <= late_at) rather than reading
    # every callback of its range into Python (issue #10's bench: ~2,800 rows for five stores).
    Column("late_at", Timestamp(), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Column("done_at", Timestamp(), nullable=True),
    Index("ix_callbacks_lead", "lead_id"),
    # Holds what the team page counts, so its read never reaches the table.
    Index("ix_callbacks_dealer_due", "dealer_id", "due_at", "staff_id", "late_at", "done_at"),
)

offers = Table(
    "offers",
    metadata,
    # An appraiser's trade-in offer, in whole cents so both databases keep it exact.
    Column("id", Integer, primary_key=True),
    Column("lead_id", ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("dealer_id", ForeignKey("dealers.id"), nullable=False),
    Column("staff_id", ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    Column("low_cents", BigInteger, nullable=False),
    Column("high_cents", BigInteger, nullable=False),
    Column("valid_until", Timestamp(), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_offers_draft", "draft_id", "id"),
)

audit = Table(
    "audit",
    metadata,
    # Append-only (design rule 11): written in the same transaction as what it records, and
    # the database refuses to change or delete a row (triggers, alembic 0006).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", Timestamp(), nullable=False),
    Column("staff_id", Integer, nullable=True),
    Column("dealer_id", Integer, nullable=True),
    # sign_in, sign_in_failed, locked, mfa_enrolled, session_ended, lead_viewed, revealed,
    # status_changed, attempt_logged, assigned, offer_made, export...
    Column("action", String(32), nullable=False),
    Column("subject", String(64), nullable=False, server_default=""),
    Column("detail", JSON, nullable=False),
    Column("ip", String(64), nullable=False, server_default=""),
    Index("ix_audit_dealer_at", "dealer_id", "at"),
    Index("ix_audit_at", "at"),
)

limits = Table(
    "limits",
    metadata,
    # Fixed-window counters kept in the database, so a limit holds across processes: failed
    # sign-ins per email and per address (and, later, the shopper-side limits of issue #12).
    Column("key", String(200), primary_key=True),
    Column("window_start", Timestamp(), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("blocked_until", Timestamp(), nullable=True),
)
