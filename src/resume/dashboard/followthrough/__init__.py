"""What the sales team does about a lead: attempts, statuses, owners, callbacks, notes, the
resume link sent now, automatic follow-up stopped, trade-in offers.

Each action checks what the account may do and writes, in one transaction, the change, its
line in the lead's timeline and its audit entry (design rule 11). A status past New, or an
attempt that reached the shopper, stops the automatic cadence with the same stop rule the
shopper's own return uses.
"""

from __future__ import annotations

from resume.dashboard.followthrough.callbacks import Callbacks
from resume.dashboard.followthrough.outreach import Outreach
from resume.dashboard.followthrough.owners import Owners
from resume.dashboard.followthrough.progress import Progress
from resume.dashboard.followthrough.reads import Reads

__all__ = ["Followthrough"]


class Followthrough(Progress, Owners, Callbacks, Outreach, Reads):
    """The follow-through service: progress, owners, callbacks, outreach, reads."""
