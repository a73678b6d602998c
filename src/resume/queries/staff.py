"""Staff accounts and the dealerships each covers."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import dealers, recovery_codes, staff, staff_dealers

# Roles that take leads by round-robin (resume.staff.roles says what each role may do).
ROTATION_ROLES = ("sales", "bdc")
# How a member of staff is named on a page (a lead's owner, who wrote a timeline entry):
# their name, else their email.
SHOWN_NAME = func.coalesce(func.nullif(staff.c.name, ""), staff.c.email, "")


class Account(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str
    role: str
    status: str  # invited, active, disabled
    password_hash: str | None
    totp_secret: str | None  # sealed
    totp_step: int | None
    invite_nonce: str | None
    invited_at: dt.datetime | None
    away: bool
    dealer_ids: tuple[int, ...]

    @property
    def label(self) -> str:
        """What a byline calls this person."""
        return self.name or self.email


class Member(msgspec.Struct, frozen=True):
    """A person on a dealership's team, as lists and owner choices show them."""

    id: int
    email: str
    name: str
    role: str
    status: str
    away: bool

    @property
    def label(self) -> str:
        return self.name or self.email


_COLUMNS = (
    staff.c.id,
    staff.c.email,
    staff.c.name,
    staff.c.role,
    staff.c.status,
    staff.c.password_hash,
    staff.c.totp_secret,
    staff.c.totp_step,
    staff.c.invite_nonce,
    staff.c.invited_at,
    staff.c.away,
)


async def _account(conn: AsyncConnection, where: object) -> Account | None:
    row = (await conn.execute(select(*_COLUMNS).where(where))).first()  # type: ignore[arg-type]
    if row is None:
        return None
    covered = await conn.execute(
        select(staff_dealers.c.dealer_id)
        .where(staff_dealers.c.staff_id == row.id)
        .order_by(staff_dealers.c.dealer_id)
    )
    return Account(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        totp_step=row.totp_step,
        invite_nonce=row.invite_nonce,
        invited_at=row.invited_at,
        away=bool(row.away),
        dealer_ids=tuple(covered.scalars()),
    )


async def get(conn: AsyncConnection, staff_id: int) -> Account | None:
    return await _account(conn, staff.c.id == staff_id)


async def by_email(conn: AsyncConnection, email: str) -> Account | None:
    return await _account(conn, staff.c.email == email.strip().lower())


async def add(
    conn: AsyncConnection,
    *,
    email: str,
    role: str,
    dealer_ids: tuple[int, ...],
    nonce: str,
    now: dt.datetime,
) -> int:
    """Create an invited account covering `dealer_ids`; return its id."""
    result = await conn.execute(
        insert(staff).values(
            email=email.strip().lower(),
            role=role,
            status="invited",
            invite_nonce=nonce,
            invited_at=now,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    staff_id = int(key[0])
    await cover(conn, staff_id, dealer_ids)
    return staff_id


async def cover(conn: AsyncConnection, staff_id: int, dealer_ids: tuple[int, ...]) -> None:
    """Make the account cover exactly `dealer_ids`, keeping each one's round-robin place."""
    await conn.execute(
        delete(staff_dealers).where(
            staff_dealers.c.staff_id == staff_id, staff_dealers.c.dealer_id.not_in(dealer_ids)
        )
    )
    present = set(
        (
            await conn.execute(
                select(staff_dealers.c.dealer_id).where(staff_dealers.c.staff_id == staff_id)
            )
        ).scalars()
    )
    missing = [{"staff_id": staff_id, "dealer_id": d} for d in dealer_ids if d not in present]
    if missing:
        await conn.execute(insert(staff_dealers), missing)


async def change(conn: AsyncConnection, staff_id: int, **values: object) -> None:
    """Set some of an account's columns."""
    await conn.execute(update(staff).where(staff.c.id == staff_id).values(**values))


async def use_totp_step(conn: AsyncConnection, staff_id: int, step: int) -> bool:
    """Record that a code of time step `step` was used, unless one of that step or a later
    one was: a single statement, so two sign-ins racing with one code can't both win."""
    result = await conn.execute(
        update(staff)
        .where(staff.c.id == staff_id, or_(staff.c.totp_step.is_(None), staff.c.totp_step < step))
        .values(totp_step=step)
    )
    return result.rowcount == 1


async def team(conn: AsyncConnection, dealer_ids: tuple[int, ...]) -> list[Member]:
    """Everyone covering any of `dealer_ids`, by name."""
    query = (
        select(staff.c.id, staff.c.email, staff.c.name, staff.c.role, staff.c.status, staff.c.away)
        .where(
            staff.c.id.in_(
                select(staff_dealers.c.staff_id).where(staff_dealers.c.dealer_id.in_(dealer_ids))
            )
        )
        .order_by(func.lower(staff.c.name), staff.c.email)
    )
    return [
        Member(r.id, r.email, r.name, r.role, r.status, bool(r.away))
        for r in await conn.execute(query)
    ]


async def dealer_slugs(conn: AsyncConnection, dealer_ids: tuple[int, ...]) -> dict[int, str]:
    result = await conn.execute(
        select(dealers.c.id, dealers.c.slug).where(dealers.c.id.in_(dealer_ids))
    )
    return {row.id: row.slug for row in result}


def next_owner(conn: Connection, dealer_id: int, now: dt.datetime) -> int | None:
    """The rep a dealership's next lead goes to: an active sales or BDC account, not away,
    that had a lead from it longest ago (or never); their turn is taken now."""
    query = (
        select(staff_dealers.c.staff_id)
        .join(staff, staff.c.id == staff_dealers.c.staff_id)
        .where(
            and_(
                staff_dealers.c.dealer_id == dealer_id,
                staff.c.status == "active",
                staff.c.away.is_(False),
                staff.c.role.in_(ROTATION_ROLES),
            )
        )
        .order_by(staff_dealers.c.last_assigned_at.is_not(None), staff_dealers.c.last_assigned_at)
        .order_by(staff_dealers.c.staff_id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        # Two processes capturing leads at once take turns instead of picking the same rep.
        query = query.with_for_update(of=staff_dealers, skip_locked=True)
    found = conn.execute(query).scalar_one_or_none()
    if found is not None:
        conn.execute(
            update(staff_dealers)
            .where(staff_dealers.c.staff_id == found, staff_dealers.c.dealer_id == dealer_id)
            .values(last_assigned_at=now)
        )
    return found


class Person(msgspec.Struct, frozen=True):
    """A person as the staff pages list them: who, what role, which stores, MFA or not."""

    id: int
    email: str
    name: str
    role: str
    status: str
    away: bool
    mfa_enrolled: bool
    dealer_ids: tuple[int, ...]

    @property
    def label(self) -> str:
        return self.name or self.email


async def roster(conn: AsyncConnection, dealer_ids: tuple[int, ...], limit: int) -> list[Person]:
    """Everyone covering any of `dealer_ids`, by name, at most `limit`; each with all the
    dealerships they cover (the caller shows only its own)."""
    covering = select(staff_dealers.c.staff_id).where(staff_dealers.c.dealer_id.in_(dealer_ids))
    rows = list(
        await conn.execute(
            select(*_COLUMNS)
            .where(staff.c.id.in_(covering))
            .order_by(func.lower(staff.c.name), staff.c.email)
            .limit(limit)
        )
    )
    covered: dict[int, list[int]] = {row.id: [] for row in rows}
    if covered:
        for link in await conn.execute(
            select(staff_dealers.c.staff_id, staff_dealers.c.dealer_id)
            .where(staff_dealers.c.staff_id.in_(list(covered)))
            .order_by(staff_dealers.c.dealer_id)
        ):
            covered[link.staff_id].append(link.dealer_id)
    return [
        Person(
            id=row.id,
            email=row.email,
            name=row.name,
            role=row.role,
            status=row.status,
            away=bool(row.away),
            mfa_enrolled=row.totp_secret is not None and row.totp_step is not None,
            dealer_ids=tuple(covered[row.id]),
        )
        for row in rows
    ]


async def stores(conn: AsyncConnection, dealer_ids: tuple[int, ...]) -> dict[int, tuple[str, str]]:
    """The slug and name of each of `dealer_ids`, in id order."""
    result = await conn.execute(
        select(dealers.c.id, dealers.c.slug, dealers.c.name)
        .where(dealers.c.id.in_(dealer_ids))
        .order_by(dealers.c.id)
    )
    return {row.id: (row.slug, row.name) for row in result}


async def other_admins(
    conn: AsyncConnection, dealer_ids: tuple[int, ...], without: int
) -> set[int]:
    """Which of `dealer_ids` have an active admin other than account `without`."""
    result = await conn.execute(
        select(staff_dealers.c.dealer_id)
        .join(staff, staff.c.id == staff_dealers.c.staff_id)
        .where(
            staff_dealers.c.dealer_id.in_(dealer_ids),
            staff.c.id != without,
            staff.c.status == "active",
            staff.c.role == "admin",
        )
        .distinct()
    )
    return set(result.scalars())


async def forget_mfa(conn: AsyncConnection, staff_id: int, nonce: str, now: dt.datetime) -> None:
    """Clear an account's TOTP key and recovery codes and make it invited again with a new
    invitation nonce: it can't sign in until it enrols an app from that invitation."""
    await change(
        conn,
        staff_id,
        status="invited",
        totp_secret=None,
        totp_step=None,
        invite_nonce=nonce,
        invited_at=now,
    )
    await conn.execute(delete(recovery_codes).where(recovery_codes.c.staff_id == staff_id))
