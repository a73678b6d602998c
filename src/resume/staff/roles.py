"""The four staff roles and what each may do, as one table to read (design rule 11).

Every role is scoped to the dealerships its account covers; these flags say what it may do
inside them. A page asks the role (`role(account.role).may_reassign`), never the role's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import msgspec


class Role(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    label: str
    # Every lead of its dealerships; otherwise its own leads and the unassigned queue.
    sees_every_lead: bool
    # Unmask a sensitive value (the credit widget's answers among them), giving a reason
    # that goes to the audit. Without it, a masked value stays masked.
    may_reveal: bool
    may_reassign: bool
    may_read_audit: bool
    # Dealership settings and the staff who cover it: invitations, roles, disabling.
    may_manage: bool
    # Gets new leads in turn (round-robin), unless marked away.
    takes_round_robin: bool
    # The outbox of its dealerships: what was sent, what waits, what died; send a dead
    # message again, stop a queued one.
    may_run_outbox: bool
    # The numbers of its dealerships: the funnel and the team's follow-through (issue #10).
    sees_numbers: bool


ROLES: Mapping[str, Role] = MappingProxyType(
    {
        r.name: r
        for r in (
            Role(
                name="admin",
                label="Admin",
                sees_every_lead=True,
                may_reveal=True,
                may_reassign=True,
                may_read_audit=True,
                may_manage=True,
                takes_round_robin=False,
                may_run_outbox=True,
                sees_numbers=True,
            ),
            Role(
                name="manager",
                label="Manager",
                sees_every_lead=True,
                may_reveal=True,
                may_reassign=True,
                may_read_audit=False,
                may_manage=False,
                takes_round_robin=False,
                may_run_outbox=True,
                sees_numbers=True,
            ),
            Role(
                name="sales",
                label="Sales",
                sees_every_lead=False,
                may_reveal=False,
                may_reassign=False,
                may_read_audit=False,
                may_manage=False,
                takes_round_robin=True,
                may_run_outbox=False,
                sees_numbers=False,
            ),
            Role(
                name="bdc",
                label="BDC",
                sees_every_lead=False,
                may_reveal=False,
                may_reassign=False,
                may_read_audit=False,
                may_manage=False,
                takes_round_robin=True,
                may_run_outbox=False,
                sees_numbers=False,
            ),
        )
    }
)


def role(name: str) -> Role:
    """Return the role called `name`, or a ValueError that names the roles there are."""
    try:
        return ROLES[name]
    except KeyError:
        known = ", ".join(ROLES)
        raise ValueError(f"unknown role {name!r}: the roles are {known}") from None
