"""The admin's staff as read: the stores they may give, the roster, a person's page, an
invitation link carried back; and a form's role, stores and address checked.
"""

from __future__ import annotations

import msgspec

from resume.dashboard.accounts import INVITE_HOURS
from resume.dashboard.staffing import base
from resume.dashboard.staffing.base import EMAIL, ROSTER_LIMIT, Access, Profile, Store
from resume.errors import BadRequest, NotFound, TokenInvalid
from resume.fields import clean
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account, Person
from resume.staff import sessions as staff_sessions
from resume.staff.roles import ROLES


class Roster(base.Service):
    """Read the staff and check what a form asks for."""

    async def stores(self, admin: Account) -> list[Store]:
        """The dealerships the admin covers, which are the stores they may give."""
        self._may(admin)
        async with self.db.read() as conn:
            found = await staff_q.stores(conn, admin.dealer_ids)
        return [Store(i, slug, name) for i, (slug, name) in found.items()]

    async def roster(self, admin: Account) -> list[Person]:
        """Everyone covering the admin's dealerships, each showing only those stores."""
        self._may(admin)
        async with self.db.read() as conn:
            people = await staff_q.roster(conn, admin.dealer_ids, ROSTER_LIMIT)
        mine = set(admin.dealer_ids)
        return [
            msgspec.structs.replace(p, dealer_ids=tuple(d for d in p.dealer_ids if d in mine))
            for p in people
        ]

    async def profile(self, admin: Account, person_id: int) -> Profile:
        self._may(admin)
        now = base.now()
        async with self.db.read() as conn:
            target = await self._target(conn, admin, person_id)
            found = await staff_q.stores(conn, admin.dealer_ids)
            sessions = [
                s
                for s in await sessions_q.open_for(conn, person_id)
                if s.mfa_done and not staff_sessions.expired(s.created_at, s.last_seen_at, now)
            ]
        person = Person(
            id=target.id,
            email=target.email,
            name=target.name,
            role=target.role,
            status=target.status,
            away=target.away,
            mfa_enrolled=target.totp_secret is not None and target.totp_step is not None,
            dealer_ids=tuple(d for d in target.dealer_ids if d in found),
        )
        return Profile(
            person=person,
            sessions=sessions if target.status == "active" else [],
            stores=[Store(i, *found[i]) for i in person.dealer_ids],
            elsewhere=len(set(target.dealer_ids) - set(admin.dealer_ids)),
            manageable=set(target.dealer_ids) <= set(admin.dealer_ids),
        )

    def check_access(self, admin: Account, fields: dict[str, str]) -> tuple[Access | None, str]:
        """The role and stores a form chose, or what a person should fix (no store chosen).
        A role or store no form of ours offers is a 400 or a 404, not a message."""
        self._may(admin)
        name = fields.get("role", "")
        if name not in ROLES:
            raise BadRequest("There is no such role.")
        chosen = []
        for key, value in fields.items():
            if not key.startswith("store-"):
                continue
            store = key.removeprefix("store-")
            if not store.isdigit() or len(store) > 9 or value != "1":
                raise BadRequest("The form named a store we don't know.")
            if int(store) not in admin.dealer_ids:
                raise NotFound("There is no such store.")
            chosen.append(int(store))
        if not chosen:
            return None, "Choose at least one store."
        return Access(name, tuple(sorted(chosen))), ""

    async def check_email(self, typed: str) -> tuple[str, str]:
        """The address to invite, lower-cased, or what is wrong with it (one that has an
        account already is refused, as `resume staff add` refuses it)."""
        checked = clean(EMAIL, typed)
        if not checked.valid or not checked.value:
            return "", checked.error or "Enter the email address of the person to invite."
        email = str(checked.value).lower()
        async with self.db.read() as conn:
            if await staff_q.by_email(conn, email) is not None:
                return "", (
                    f"{email} already has an account. If it is theirs at another dealership, "
                    "ask that dealership's admin to add your store to it."
                )
        return email, ""

    def link_from_token(self, person_id: int, token: str) -> str:
        """The invitation link a token carried back to the person's page names, if it is a
        well-signed one for this person (a cookie can be planted; its link then isn't
        shown)."""
        try:
            invite = self.signer.verify_invite(token, max_age=INVITE_HOURS * 3600)
        except TokenInvalid:  # expired ones too
            return ""
        if invite.staff_id != person_id:
            return ""
        return f"{self.settings.base_url}/dashboard/invite/{token}"
