"""What every part of staff management shares: the forms' structs, the admin's scope, the
person looked up within it, the rule that a dealership keeps an admin, and the audit of a
change once for each dealership it touches."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.dashboard.accounts import Accounts
from resume.db import Database
from resume.errors import Forbidden, NotFound
from resume.fields import Field
from resume.queries import audit as audit_q
from resume.queries import staff as staff_q
from resume.queries.sessions import Session
from resume.queries.staff import Account, Person
from resume.settings import Settings
from resume.staff.roles import role
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


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def staff_id(value: str) -> int:
    """A person's id from an address: digits, and not absurdly many."""
    if not value.isdigit() or len(value) > 9:
        raise NotFound("There is no such person.")
    return int(value)


class Service:
    """Staff management's parts."""

    def __init__(self, settings: Settings, db: Database, signer: Signer, accounts: Accounts):
        self.settings = settings
        self.db = db
        self.signer = signer
        self.accounts = accounts

    def _may(self, admin: Account) -> None:
        if not role(admin.role).may_manage:
            raise NotFound()

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
        at = now or dt.datetime.now(dt.UTC)
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


def slugs(dealer_ids: tuple[int, ...], names: dict[int, tuple[str, str]]) -> list[str]:
    return [names[d][0] if d in names else str(d) for d in dealer_ids]
