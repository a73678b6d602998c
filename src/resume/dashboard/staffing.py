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

import datetime as dt
import secrets
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.dashboard.accounts import INVITE_HOURS, Accounts
from resume.db import Database
from resume.errors import BadRequest, Forbidden, NotFound, TokenInvalid
from resume.fields import Field, clean
from resume.queries import audit as audit_q
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.sessions import Session
from resume.queries.staff import Account, Person
from resume.settings import Settings
from resume.staff import sessions as staff_sessions
from resume.staff.roles import ROLES, role
from resume.tokens import Invite, Signer

# A dealership's staff fit on one page; a group's too, up to this many.
ROSTER_LIMIT = 500
EMAIL = Field(name="email", type="email", label="Email address", max_length=320)
STATUS_LABELS = {"invited": "Invited", "active": "Active", "disabled": "Disabled"}


class Store(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name: str


class Profile(msgspec.Struct, frozen=True):
    """A person's page: the person, their signed-in sessions, the admin's stores they cover,
    how many other dealerships they cover, and whether this admin may change them."""

    person: Person
    sessions: list[Session]
    stores: list[Store]
    elsewhere: int
    manageable: bool


class Access(msgspec.Struct, frozen=True):
    """A role and stores as typed into a form, checked: the stores are the admin's own."""

    role: str
    dealer_ids: tuple[int, ...]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def staff_id(value: str) -> int:
    """A person's id from an address: digits, and not absurdly many."""
    if not value.isdigit() or len(value) > 9:
        raise NotFound("There is no such person.")
    return int(value)


class Staffing:
    def __init__(self, settings: Settings, db: Database, signer: Signer, accounts: Accounts):
        self.settings = settings
        self.db = db
        self.signer = signer
        self.accounts = accounts

    def _may(self, admin: Account) -> None:
        if not role(admin.role).may_manage:
            raise NotFound()

    # Reading -----------------------------------------------------------------------------

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
        now = _now()
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

    # Checking a form ---------------------------------------------------------------------

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

    # Changing ----------------------------------------------------------------------------

    async def invite(self, admin: Account, email: str, access: Access) -> tuple[int, str]:
        """Invite a new person (a checked address, as `resume staff add` does): their id
        and the link, which the admin passes on."""
        self._may(admin)
        link = await self.accounts.invite(email, access.role, access.dealer_ids, by=admin.id)
        async with self.db.read() as conn:
            account = await staff_q.by_email(conn, email)
        assert account is not None
        return account.id, link

    async def change_access(
        self, admin: Account, person_id: int, access: Access, *, ip: str = ""
    ) -> bool:
        """Give a person this role and these stores; False if that is what they had."""
        self._may(admin)
        async with self.db.write() as conn:
            target = await self._manageable(conn, admin, person_id)
            if target.role == access.role and target.dealer_ids == access.dealer_ids:
                return False
            await self._keep_an_admin(conn, target, access.role, access.dealer_ids, "active")
            names = await staff_q.stores(conn, admin.dealer_ids)
            await staff_q.change(conn, target.id, role=access.role)
            await staff_q.cover(conn, target.id, access.dealer_ids)
            await self._audit(
                conn,
                "staff_role_changed",
                admin,
                target,
                set(target.dealer_ids) | set(access.dealer_ids),
                {
                    "before": {"role": target.role, "stores": _slugs(target.dealer_ids, names)},
                    "after": {"role": access.role, "stores": _slugs(access.dealer_ids, names)},
                },
                ip,
            )
        return True

    async def disable(self, admin: Account, person_id: int, *, ip: str = "") -> int:
        """Disable an account and end its sessions (the invitation stops working too);
        return how many sessions ended."""
        self._may(admin)
        now = _now()
        async with self.db.write() as conn:
            target = await self._manageable(conn, admin, person_id)
            if target.id == admin.id:
                raise Forbidden(
                    "You can't disable your own account. Another admin can.",
                    title="That would lock you out",
                )
            if target.status == "disabled":
                raise BadRequest("This account is disabled already.", title="Nothing to do")
            await self._keep_an_admin(conn, target, target.role, target.dealer_ids, "disabled")
            await staff_q.change(conn, target.id, status="disabled", invite_nonce=None)
            ended = await sessions_q.end_all(conn, target.id, now, "disabled")
            await self._audit(
                conn,
                # The name `resume staff disable` records too.
                "staff_disabled",
                admin,
                target,
                set(target.dealer_ids),
                {
                    "before": {"status": target.status},
                    "after": {"status": "disabled"},
                    "count": ended,
                    "by": "dashboard",
                },
                ip,
                now=now,
            )
        return ended

    async def enable(self, admin: Account, person_id: int, *, ip: str = "") -> str:
        """Let a disabled person back in, through a fresh invitation: they choose a new
        password and enrol MFA again, since whatever they had may be why they were
        disabled. Return the link."""
        self._may(admin)
        now = _now()
        nonce = secrets.token_urlsafe(24)
        async with self.db.write() as conn:
            target = await self._manageable(conn, admin, person_id)
            if target.status != "disabled":
                raise BadRequest("Only a disabled account can be enabled.", title="Nothing to do")
            await staff_q.forget_mfa(conn, target.id, nonce, now)
            await self._audit(
                conn,
                "staff_enabled",
                admin,
                target,
                set(target.dealer_ids),
                {
                    "before": {"status": "disabled"},
                    "after": {"status": "invited", "mfa": "to enrol again"},
                },
                ip,
                now=now,
            )
        return self._link(target.id, nonce)

    async def reset_mfa(self, admin: Account, person_id: int, *, ip: str = "") -> tuple[int, str]:
        """Clear a person's TOTP key and recovery codes and end their sessions: they can't
        sign in until they enrol again from the fresh invitation returned (with how many
        sessions ended)."""
        self._may(admin)
        now = _now()
        nonce = secrets.token_urlsafe(24)
        async with self.db.write() as conn:
            target = await self._manageable(conn, admin, person_id)
            if target.id == admin.id:
                raise Forbidden(
                    "You can't reset your own MFA: you would be signed out with no way back "
                    "in. Another admin can reset it for you.",
                    title="That would lock you out",
                )
            if target.status != "active":
                raise BadRequest(
                    "Only an active account has MFA to reset. For an invited person, send a "
                    "fresh invitation instead.",
                    title="Nothing to reset",
                )
            await self._keep_an_admin(conn, target, target.role, target.dealer_ids, "invited")
            await staff_q.forget_mfa(conn, target.id, nonce, now)
            ended = await sessions_q.end_all(conn, target.id, now, "MFA reset")
            await self._audit(
                conn,
                "staff_mfa_reset",
                admin,
                target,
                set(target.dealer_ids),
                {
                    "before": {"status": "active", "mfa": "enrolled"},
                    "after": {"status": "invited", "mfa": "to enrol again"},
                    "count": ended,
                },
                ip,
                now=now,
            )
        return ended, self._link(target.id, nonce)

    async def reinvite(self, admin: Account, person_id: int, *, ip: str = "") -> str:
        """A fresh invitation for someone who hasn't accepted theirs (the older link stops
        working), as `resume staff invite` issues it."""
        self._may(admin)
        async with self.db.read() as conn:
            target = await self._manageable(conn, admin, person_id)
        if target.status != "invited":
            raise BadRequest(
                "Only an invited person gets a fresh invitation. To have an active person "
                "enrol their app again, reset their MFA.",
                title="Nothing to do",
            )
        return await self.accounts.reinvite(target.email, by=admin.id)

    async def end_session(
        self, admin: Account, person_id: int, session_id: str, *, current: str, ip: str = ""
    ) -> None:
        """End one of a person's sessions (not the admin's own, this one: that is signing
        out)."""
        self._may(admin)
        now = _now()
        async with self.db.write() as conn:
            # Whose first: another dealership's person is a 404 whatever the form says.
            target = await self._manageable(conn, admin, person_id)
            if len(session_id) != 64 or any(c not in "0123456789abcdef" for c in session_id):
                raise BadRequest("The form named a session we don't know.")
            if target.id == admin.id and secrets.compare_digest(session_id, current):
                raise BadRequest(
                    "That is the session you are using now: sign out instead.",
                    title="Nothing ended",
                )
            ended = await sessions_q.end_of(conn, target.id, session_id, now, "ended by an admin")
            if ended is None:
                raise NotFound("That session has ended already, or isn't theirs.")
            await self._audit(
                conn,
                "session_ended_by_admin",
                admin,
                target,
                set(target.dealer_ids),
                {
                    "session_started": ended.created_at.isoformat(),
                    "session_ip": ended.ip,
                },
                ip,
                now=now,
            )

    # Inside a transaction ----------------------------------------------------------------

    async def _target(self, conn: AsyncConnection, admin: Account, person_id: int) -> Account:
        target = await staff_q.get(conn, person_id)
        if target is None or not set(target.dealer_ids) & set(admin.dealer_ids):
            raise NotFound("There is no such person.")
        return target

    async def _manageable(self, conn: AsyncConnection, admin: Account, person_id: int) -> Account:
        target = await self._target(conn, admin, person_id)
        if not set(target.dealer_ids) <= set(admin.dealer_ids):
            raise Forbidden(
                "This person also works at a dealership you don't manage. An admin who "
                "covers all their dealerships can change their account.",
                title="That isn't yours to change",
            )
        return target

    async def _keep_an_admin(
        self,
        conn: AsyncConnection,
        target: Account,
        role_after: str,
        dealers_after: tuple[int, ...],
        status_after: str,
    ) -> None:
        """Refuse a change that would leave a dealership with no active admin."""
        if target.role != "admin" or target.status != "active":
            return
        still = dealers_after if role_after == "admin" and status_after == "active" else ()
        losing = tuple(d for d in target.dealer_ids if d not in still)
        if not losing:
            return
        covered = await staff_q.other_admins(conn, losing, without=target.id)
        if set(losing) - covered:
            raise Forbidden(
                "That would leave a dealership with no active admin, so nobody could manage "
                "its staff and settings. Make someone else an admin there first.",
                title="A dealership needs an admin",
            )

    async def _audit(
        self,
        conn: AsyncConnection,
        action: str,
        admin: Account,
        target: Account,
        dealer_ids: set[int],
        detail: dict[str, Any],
        ip: str,
        *,
        now: dt.datetime | None = None,
    ) -> None:
        at = now or _now()
        for dealer_id in sorted(dealer_ids):
            await audit_q.record(
                conn,
                action,
                at=at,
                staff_id=admin.id,
                dealer_id=dealer_id,
                subject=f"staff:{target.id}",
                detail=detail,
                ip=ip,
            )

    def _link(self, person_id: int, nonce: str) -> str:
        token = self.signer.sign_invite(Invite(person_id, nonce))
        return f"{self.settings.base_url}/dashboard/invite/{token}"

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


def _slugs(dealer_ids: tuple[int, ...], names: dict[int, tuple[str, str]]) -> list[str]:
    return [names[d][0] if d in names else str(d) for d in dealer_ids]
