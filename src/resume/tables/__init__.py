"""SQLAlchemy Core tables. alembic/versions/ creates them; keep the two in step.

Every table is in the one `metadata`, grouped by noun in the modules here; importing the
package defines them all. A foreign key names its table by string and is resolved when both
are defined, so the modules may be imported in any order; `metadata.sorted_tables` puts a
table after the ones it refers to.
"""

from resume.tables.base import Timestamp, metadata
from resume.tables.casework import audit, callbacks, lead_activity, leads, offers
from resume.tables.dealerships import (
    dealer_logos,
    dealers,
    recovery_codes,
    staff,
    staff_dealers,
    staff_sessions,
)
from resume.tables.installation import limits, meta
from resume.tables.mail import outbox, suppressions
from resume.tables.shoppers import consents, drafts, events, field_values, prequals
from resume.tables.summaries import STARTED, funnel_counts, funnel_totals, team_counts

__all__ = [
    "STARTED",
    "Timestamp",
    "audit",
    "callbacks",
    "consents",
    "dealer_logos",
    "dealers",
    "drafts",
    "events",
    "field_values",
    "funnel_counts",
    "funnel_totals",
    "lead_activity",
    "leads",
    "limits",
    "meta",
    "metadata",
    "offers",
    "outbox",
    "prequals",
    "recovery_codes",
    "staff",
    "staff_dealers",
    "staff_sessions",
    "suppressions",
    "team_counts",
]
