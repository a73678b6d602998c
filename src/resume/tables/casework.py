"""The leads (one shopper at one dealership) and what the team did about them: the
timeline, callbacks promised, trade-in offers, and the audit of every staff action."""

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
    false,
    text,
)

from resume.tables.base import Timestamp, metadata

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
