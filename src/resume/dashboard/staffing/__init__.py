"""Staff management for a dealership's admin (issue #13, item 2): who covers the admin's
dealerships, invitations, role and stores, disabling and enabling, MFA reset, and ending a
person's sessions.

Scoped like every staff page (design rule 11): a person who covers none of the admin's
dealerships is not found, and a role without `may_manage` finds nothing at all. A person who
also covers a dealership the admin doesn't is shown but not changed: a role, a password and
MFA belong to the account, not to one rooftop, so one store's admin must not disable or
demote a group's. Every change is audited, with its before and after, in the transaction
that makes it, once for each dealership it touches so that each one's admins read it.
"""

from __future__ import annotations

from resume.dashboard.staffing.base import STATUS_LABELS, staff_id
from resume.dashboard.staffing.changes import Changes
from resume.dashboard.staffing.roster import Roster

__all__ = ["STATUS_LABELS", "Staffing", "staff_id"]


class Staffing(Roster, Changes):
    """Staff management for an admin: reading and checking (Roster), changing (Changes)."""
