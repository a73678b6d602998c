"""Signing in: the password, then a TOTP or recovery code, with a lockout per email and per
client address; and signing in again inside a session before a sensitive change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection

from resume import metrics
from resume.consent import Client
from resume.dashboard.accounts import base
from resume.dashboard.accounts.sessions import Signed
from resume.errors import Forbidden, TokenInvalid, TooManyRequests
from resume.queries import audit as audit_q
from resume.queries import limits as limits_q
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account
from resume.staff import recovery, totp
from resume.staff import sessions as staff_sessions
from resume.tables import recovery_codes

# Five failed sign-ins for one email within 15 minutes lock it for 15 minutes; one client
# address gets more, since a showroom's staff share one.
LOCK_AFTER = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
PER_ADDRESS = 30
# Between the password and the code: a pending sign-in lasts this long.
CODE_WINDOW = dt.timedelta(minutes=5)

REFUSED = "That email and password don't match an account we can sign in."
LOCKED = (
    "Too many tries. For your security, signing in with this email is paused for 15 "
    "minutes; try again after that, or ask your dealership's admin."
)
WRONG_CODE = "That code didn't work. Enter the 6-digit code your app shows now."


class SignIn(base.Service):
    """Sign in with a password and a code, and again inside a session."""

    async def sign_in(
        self, email: str, password: str, client: Client, *, now: dt.datetime | None = None
    ) -> str:
        """Check the password; return a pending session's token, which only a code can turn
        into a session. The same refusal whether or not the email has an account."""
        now = now or base.now()
        email = email.strip().lower()[:320]
        # A refusal is written (the count, the audit) and committed before it is raised: an
        # exception inside the transaction would roll the record of it back.
        refusal: Exception | None = None
        token = staff_sessions.new_token()
        async with self.db.read() as conn:
            account = await staff_q.by_email(conn, email)
        usable = account is not None and account.status == "active"
        stored = account.password_hash if account and usable else None
        # Verified even for an unknown email (against a dummy hash): the same time either way,
        # and outside the write transaction, which must not wait on it.
        good = await base.verify(stored, password) and bool(stored)
        async with self.db.write() as conn:
            if await self._blocked(conn, email, client, now):
                await self._locked_out(conn, email, account, client, now, "password")
                refusal = TooManyRequests(LOCKED)
            elif not good:
                await self._failed(conn, email, account, client, now, "password")
                refusal = Forbidden(REFUSED, title="We couldn't sign you in")
            else:
                assert account is not None
                await sessions_q.add(
                    conn,
                    token_hash=staff_sessions.token_hash(token),
                    staff_id=account.id,
                    mfa_done=False,
                    csrf=staff_sessions.new_csrf_token(),
                    now=now,
                    ip=client.ip,
                    user_agent=client.user_agent,
                )
        if refusal is not None:
            raise refusal
        return token

    async def enter_code(
        self, pending: str, code: str, client: Client, *, now: dt.datetime | None = None
    ) -> str:
        """Turn a pending sign-in into a session with a TOTP or a recovery code: a new
        session id (the pending one ends), so a token seen before sign-in is worth nothing."""
        now = now or base.now()
        async with self.db.write() as conn:
            session = await sessions_q.get(conn, staff_sessions.token_hash(pending))
            if (
                session is None
                or session.mfa_done
                or session.ended_at is not None
                or now - session.created_at > CODE_WINDOW
            ):
                raise TokenInvalid("This sign-in has expired. Enter your email and password again.")
            account = await staff_q.get(conn, session.staff_id)
            if account is None or account.status != "active" or account.totp_secret is None:
                raise TokenInvalid("This sign-in has expired. Enter your email and password again.")
            # As in sign_in, a refusal is recorded and committed before it is raised.
            how = None
            if await self._blocked(conn, account.email, client, now):
                await self._locked_out(conn, account.email, account, client, now, "code")
                refusal: Exception = TooManyRequests(LOCKED)
            else:
                how = await self._check_code(conn, account, code, now)
                if how is None:
                    await self._failed(conn, account.email, account, client, now, "code")
                refusal = Forbidden(WRONG_CODE, title="That code didn't work")
        if how is None:
            raise refusal
        async with self.db.write() as conn:
            await sessions_q.end(conn, session.id, now, "signed in")
            token = staff_sessions.new_token()
            await sessions_q.add(
                conn,
                token_hash=staff_sessions.token_hash(token),
                staff_id=account.id,
                mfa_done=True,
                csrf=staff_sessions.new_csrf_token(),
                now=now,
                ip=client.ip,
                user_agent=client.user_agent,
            )
            await limits_q.clear(conn, _email_key(account.email))
            await audit_q.record(
                conn, "sign_in", at=now, staff_id=account.id, detail={"with": how}, ip=client.ip
            )
        return token

    async def _check_code(
        self, conn: AsyncConnection, account: Account, code: str, now: dt.datetime
    ) -> str | None:
        """ "totp" or "recovery code" if the code signs the account in, else None."""
        assert account.totp_secret is not None
        step = totp.verify(
            self.ring.open(account.totp_secret),
            code,
            last_step=account.totp_step,
            now=now.timestamp(),
        )
        if step is not None:
            # The same code twice in its step (a replay, or two tabs) wins once.
            return "totp" if await staff_q.use_totp_step(conn, account.id, step) else None
        if len("".join(code.split())) <= 6:
            return None
        used = await conn.execute(
            recovery_codes.update()
            .where(
                recovery_codes.c.staff_id == account.id,
                recovery_codes.c.code_hash == recovery.code_hash(code),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return "recovery code" if used.rowcount == 1 else None

    async def _blocked(
        self, conn: AsyncConnection, email: str, client: Client, now: dt.datetime
    ) -> bool:
        return await limits_q.blocked(conn, _email_key(email), now) or await limits_q.blocked(
            conn, _address_key(client.ip), now
        )

    async def _locked_out(
        self,
        conn: AsyncConnection,
        email: str,
        account: Account | None,
        client: Client,
        now: dt.datetime,
        at: str,
    ) -> None:
        """Audit a try refused because the email or the address is locked out: against the
        account when there is one, so its admins see it, else against the email typed."""
        metrics.LOCKOUTS.labels("refused").inc()
        await audit_q.record(
            conn,
            "sign_in_locked",
            at=now,
            staff_id=account.id if account else None,
            subject="" if account else email[:64],
            detail={"at": at},
            ip=client.ip,
        )

    async def _failed(
        self,
        conn: AsyncConnection,
        email: str,
        account: Account | None,
        client: Client,
        now: dt.datetime,
        what: str,
    ) -> None:
        locked = await limits_q.hit(
            conn, _email_key(email), now, window=LOCK_WINDOW, limit=LOCK_AFTER, block_for=LOCK_FOR
        )
        await limits_q.hit(
            conn,
            _address_key(client.ip),
            now,
            window=LOCK_WINDOW,
            limit=PER_ADDRESS,
            block_for=LOCK_FOR,
        )
        staff_id = account.id if account else None
        subject = "" if account else email[:64]
        metrics.SIGN_IN_FAILURES.labels(what).inc()
        await audit_q.record(
            conn,
            "sign_in_failed",
            at=now,
            staff_id=staff_id,
            subject=subject,
            detail={"wrong": what},
            ip=client.ip,
        )
        if locked:
            metrics.LOCKOUTS.labels("locked").inc()
            await audit_q.record(
                conn, "locked", at=now, staff_id=staff_id, subject=subject, ip=client.ip
            )

    async def reauthenticate(
        self, signed: Signed, password: str, code: str, client: Client
    ) -> bool:
        """Sign in again inside a session (password and code), before a change of password
        or MFA; a wrong try counts towards the lockout like any other."""
        now = base.now()
        account = signed.account
        good = bool(account.password_hash) and await base.verify(account.password_hash, password)
        async with self.db.write() as conn:
            if await self._blocked(conn, account.email, client, now):
                await self._locked_out(conn, account.email, account, client, now, "reauth")
                locked = True
            else:
                locked = False
                how = await self._check_code(conn, account, code, now) if good else None
                if how is None:
                    await self._failed(conn, account.email, account, client, now, "reauth")
                else:
                    await sessions_q.reauthenticated(conn, signed.session.id, now)
                    await audit_q.record(
                        conn, "reauthenticated", at=now, staff_id=account.id, ip=client.ip
                    )
        if locked:
            raise TooManyRequests(LOCKED)
        return how is not None


def _email_key(email: str) -> str:
    return f"signin:email:{email.strip().lower()}"


def _address_key(ip: str) -> str:
    return f"signin:ip:{ip}"
