"""A signed-in session: found from its cookie's token, timed out, ended; the password changed
inside it."""

from __future__ import annotations

import datetime as dt

import msgspec

from resume.consent import Client
from resume.dashboard.accounts import base
from resume.errors import Forbidden, NotFound
from resume.queries import audit as audit_q
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.sessions import Session
from resume.queries.staff import Account
from resume.staff import passwords
from resume.staff import sessions as staff_sessions
from resume.staff.roles import role

# Changing the password or MFA needs the password typed again this recently.
REAUTH_WINDOW = dt.timedelta(minutes=5)
# A session's last-seen time is written at most this often, not on every page.
SEEN_EVERY = dt.timedelta(seconds=60)


class Signed(msgspec.Struct, frozen=True):
    """A session as a request sees it: its row and its account."""

    session: Session
    account: Account


class Sessions(base.Service):
    """Find, time out and end sessions; change the password inside one."""

    async def signed_in(self, token: str, *, now: dt.datetime | None = None) -> Signed | None:
        """The session a cookie's token names, if it is signed in and has not timed out; a
        session past its idle or absolute limit is ended (and audited) here."""
        if not token or len(token) > 100:
            return None
        now = now or base.now()
        hashed = staff_sessions.token_hash(token)
        async with self.db.read() as conn:
            session = await sessions_q.get(conn, hashed)
            account = await staff_q.get(conn, session.staff_id) if session else None
        if session is None or account is None or session.ended_at is not None:
            return None
        if not session.mfa_done:
            return None
        why = staff_sessions.expired(session.created_at, session.last_seen_at, now)
        if account.status != "active":
            why = why or "account disabled"
        if why:
            async with self.db.write() as conn:
                if await sessions_q.end(conn, hashed, now, why):
                    await audit_q.record(
                        conn, "session_ended", at=now, staff_id=account.id, detail={"why": why}
                    )
            return None
        if now - session.last_seen_at >= SEEN_EVERY:
            async with self.db.write() as conn:
                await sessions_q.seen(conn, hashed, now)
        return Signed(session, account)

    async def sign_out(self, signed: Signed, *, everywhere: bool = False, ip: str = "") -> int:
        now = base.now()
        async with self.db.write() as conn:
            if everywhere:
                ended = await sessions_q.end_all(
                    conn, signed.account.id, now, "signed out everywhere"
                )
            else:
                ended = int(await sessions_q.end(conn, signed.session.id, now, "signed out"))
            await audit_q.record(
                conn,
                "session_ended",
                at=now,
                staff_id=signed.account.id,
                detail={
                    "why": "signed out everywhere" if everywhere else "signed out",
                    "count": ended,
                },
                ip=ip,
            )
        return ended

    def recently_reauthenticated(self, signed: Signed) -> bool:
        return base.now() - signed.session.reauth_at <= REAUTH_WINDOW

    async def change_password(
        self, signed: Signed, password: str, again: str, client: Client
    ) -> str | None:
        """Set a new password after signing in again; every other session ends."""
        if not self.recently_reauthenticated(signed):
            raise Forbidden("Sign in again before changing your password.")
        if password != again:
            return "The two passwords are not the same. Type the same one twice."
        problem = passwords.check_new_password(password, email=signed.account.email)
        if problem:
            return problem
        now = base.now()
        hashed = await base.hash_password(password)
        async with self.db.write() as conn:
            await staff_q.change(conn, signed.account.id, password_hash=hashed)
            ended = await sessions_q.end_all(
                conn, signed.account.id, now, "password changed", keep=signed.session.id
            )
            await audit_q.record(
                conn,
                "password_changed",
                at=now,
                staff_id=signed.account.id,
                detail={"sessions_ended": ended},
                ip=client.ip,
            )
        return None

    async def end_sessions_of(
        self, admin: Signed, staff_id: int, *, disable: bool = False, ip: str = ""
    ) -> int:
        """An admin ends someone's sessions (and, with `disable`, disables the account)
        within the dealerships the admin covers; anyone else's id is a 404."""
        if not role(admin.account.role).may_manage:
            raise NotFound()
        now = base.now()
        async with self.db.write() as conn:
            target = await staff_q.get(conn, staff_id)
            if target is None or not set(target.dealer_ids) & set(admin.account.dealer_ids):
                raise NotFound()
            if disable:
                await staff_q.change(conn, staff_id, status="disabled", invite_nonce=None)
            ended = await sessions_q.end_all(
                conn, staff_id, now, "disabled" if disable else "ended by an admin"
            )
            await audit_q.record(
                conn,
                "staff_disabled" if disable else "session_ended",
                at=now,
                staff_id=admin.account.id,
                subject=f"staff:{staff_id}",
                detail={"count": ended, "by_admin": True},
                ip=ip,
            )
        return ended
