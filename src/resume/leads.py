"""What a lead is to the sales team: its statuses, the attempts made on it, why it was lost,
and the response clock (capture to first human attempt, in the dealership's business hours).
"""

from __future__ import annotations

import datetime as dt

from resume.calc.business import business_minutes
from resume.dealers import DealerConfig

STATUSES = {
    "new": "New",
    "attempting": "Attempting contact",
    "contacted": "Contacted",
    "appointment_set": "Appointment set",
    "appointment_confirmed": "Appointment confirmed",
    "shown": "Shown",
    "no_show": "No show",
    "sold": "Sold",
    "lost": "Lost",
}
# The statuses an appointment belongs to: setting one of them asks for its date and time.
APPOINTMENT = frozenset({"appointment_set", "appointment_confirmed"})
LOST_REASONS = {
    "bought_elsewhere": "Bought elsewhere",
    "not_ready": "Not ready",
    "bad_contact": "Bad contact details",
    "duplicate": "Duplicate",
    "credit": "Credit",
    "vehicle_unavailable": "Vehicle not available",
    "other": "Other",
}
CHANNELS = {"call": "Call", "text": "Text", "email": "Email", "visit": "In person"}
OUTCOMES = {
    "reached": "Reached them",
    "voicemail": "Left voicemail",
    "no_answer": "No answer",
    "wrong_number": "Wrong number or bounced",
    "replied": "They replied",
}
# Outcomes that are two-way contact: they stop the automatic follow-up, as "contacted" does.
REACHED = frozenset({"reached", "replied"})
# The clock turns amber this long after capture with no human attempt.
AMBER_MINUTES = 15
# A promised callback not done this long after its time is missed.
CALLBACK_GRACE = dt.timedelta(minutes=15)


def clock(
    captured_at: dt.datetime,
    first_attempt_at: dt.datetime | None,
    now: dt.datetime,
    config: DealerConfig,
    timezone: str,
) -> tuple[int, str]:
    """Business minutes from capture to the first attempt (or to now, if none yet), and how
    the clock shows them: "done", "ok", "amber" from 15 minutes, "red" past the target."""
    end = first_attempt_at or now
    minutes = business_minutes(captured_at, end, config.business_hours, timezone)
    if first_attempt_at is not None:
        return minutes, "done"
    if minutes > config.response_minutes:
        return minutes, "red"
    if minutes >= AMBER_MINUTES:
        return minutes, "amber"
    return minutes, "ok"
