"""Staff accounts: invitations, passwords and TOTP, sign-in with lockout, sessions.

Every account signs in with a password and a TOTP code (the FTC Safeguards Rule, 16 CFR
314.4(c)(5), asks MFA of anyone who reaches customer information). Sessions are kept in the
database; the cookie holds a random token whose hash is the row's id. Every sign-in, failure,
lockout, enrolment and ended session is audited in the same transaction as the change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from resume import metrics
from resume.consent import Client
from resume.db import Database
from resume.errors import BadRequest, Forbidden, NotFound, TokenInvalid, TooManyRequests
from resume.keyring import Keyring
from resume.queries import audit as audit_q
from resume.queries import limits as limits_q
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.sessions import Session
from resume.queries.staff import Account
from resume.settings import Settings
from resume.staff import passwords, recovery, totp
from resume.staff import sessions as staff_sessions
from resume.staff.roles import role
from resume.tables import recovery_codes
from resume.tokens import Invite, Signer

INVITE_HOURS = 24
ISSUER = "resume"
# Five failed sign-ins for one email within 15 minutes lock it for 15 minutes; one client
# address gets more, since a showroom's staff share one.
LOCK_AFTER = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
PER_ADDRESS = 30
# Between the password and the code: a pending sign-in lasts this long.
CODE_WINDOW = dt.timedelta(minutes=5)
# Changing the password or MFA needs the password typed again this recently.
REAUTH_WINDOW = dt.timedelta(minutes=5)
# A session's last-seen time is written at most this often, not on every page.
SEEN_EVERY = dt.timedelta(seconds=60)

REFUSED = "That email and password don't match an account we can sign in."
LOCKED = (
    "Too many tries. For your security, signing in with this email is paused for 15 "
    "minutes; try again after that, or ask your dealership's admin."
)
WRONG_CODE = "That code didn't work. Enter the 6-digit code your app shows now."


class Signed(msgspec.Struct, frozen=True):
    """A session as a request sees it: its row and its account."""

    session: Session
    account: Account


class Enrolment(msgspec.Struct, frozen=True):
    """What the MFA step of an invitation shows: the key as a QR and as text."""

    account: Account
    qr_svg: str
    key: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# An argon2id hash costs about 0.17 s and 64 MiB (resume.staff.passwords): done in a thread, a
# few at a time, so sign-ins never stall the event loop that serves the widgets.
_HASHING = asyncio.Semaphore(2)


async def _verify(stored: str | None, password: str) -> bool:
    async with _HASHING:
        return await asyncio.to_thread(
            passwords.verify_password, stored or passwords.DUMMY_HASH, password
        )


async def _hash(password: str) -> str:
    async with _HASHING:
        return await asyncio.to_thread(passwords.hash_password, password)


class Accounts:
    """The account service; `now` may be passed to every method so tests control the clock."""

    def __init__(self, settings: Settings, db: Database, ring: Keyring, signer: Signer) -> None:
        self.settings = settings
        self.db = db
        self.ring = ring
        self.signer = signer

    # Invitations -------------------------------------------------------------------------

    async def invite(
        self,
        email: str,
        role_name: str,
        dealer_ids: tuple[int, ...],
        *,
        by: int | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        """Create an invited account and return its one-time invitation link."""
        now = now or _now()
        role(role_name)
        nonce = secrets.token_urlsafe(24)
        async with self.db.write() as conn:
            if await staff_q.by_email(conn, email) is not None:
                raise BadRequest(f"{email} already has an account.")
            staff_id = await staff_q.add(
                conn, email=email, role=role_name, dealer_ids=dealer_ids, nonce=nonce, now=now
            )
            for dealer_id in dealer_ids:
                await audit_q.record(
                    conn,
                    "staff_invited",
                    at=now,
                    staff_id=by,
                    dealer_id=dealer_id,
                    subject=f"staff:{staff_id}",
                    detail={"role": role_name},
                )
        return self._invite_url(staff_id, nonce)

    async def reinvite(
        self, email: str, *, by: int | None = None, now: dt.datetime | None = None
    ) -> str:
        """Issue a fresh invitation (the older link stops working); accepting it sets a new
        password and MFA, and ends the account's sessions."""
        now = now or _now()
        nonce = secrets.token_urlsafe(24)
        async with self.db.write() as conn:
            account = await staff_q.by_email(conn, email)
            if account is None:
                raise NotFound(f"No account for {email}.")
            if account.status == "disabled":
                raise BadRequest(f"{email} is disabled; enable it before inviting again.")
            await staff_q.change(conn, account.id, invite_nonce=nonce, invited_at=now)
            await audit_q.record(
                conn, "staff_reinvited", at=now, staff_id=by, subject=f"staff:{account.id}"
            )
        return self._invite_url(account.id, nonce)

    def _invite_url(self, staff_id: int, nonce: str) -> str:
        token = self.signer.sign_invite(Invite(staff_id, nonce))
        return f"{self.settings.base_url}/dashboard/invite/{token}"

    async def invited(self, token: str) -> Account:
        """The account an invitation link is for, if the link is the newest and unused."""
        invite = self.signer.verify_invite(token, max_age=INVITE_HOURS * 3600)
        async with self.db.read() as conn:
            account = await staff_q.get(conn, invite.staff_id)
        if (
            account is None
            or account.status == "disabled"
            or not account.invite_nonce
            or not secrets.compare_digest(account.invite_nonce, invite.nonce)
        ):
            raise TokenInvalid(
                "This invitation was used already or replaced by a newer one. Ask your "
                "dealership's admin for a fresh link."
            )
        return account

    async def choose_password(
        self,
        token: str,
        password: str,
        again: str,
        *,
        ip: str = "",
        now: dt.datetime | None = None,
    ) -> str | None:
        """Set the invited account's password and a new TOTP key to enrol (audited: for an
        account invited again, this replaces both); return what is wrong with the password
        instead, if anything."""
        account = await self.invited(token)
        if password != again:
            return "The two passwords are not the same. Type the same one twice."
        problem = passwords.check_new_password(password, email=account.email)
        if problem:
            return problem
        hashed = await _hash(password)
        async with self.db.write() as conn:
            await staff_q.change(
                conn,
                account.id,
                password_hash=hashed,
                totp_secret=self.ring.seal(totp.new_secret()),
                totp_step=None,
            )
            await audit_q.record(
                conn,
                "password_set",
                at=now or _now(),
                staff_id=account.id,
                subject=f"staff:{account.id}",
                detail={"from": "invitation", "mfa": "new key to enrol"},
                ip=ip,
            )
        return None

    async def enrolment(self, token: str) -> Enrolment:
        """The TOTP key the invited account is to enrol, once its password is chosen."""
        account = await self.invited(token)
        if not account.password_hash or not account.totp_secret:
            raise BadRequest("Choose a password first.")
        secret = self.ring.open(account.totp_secret)
        uri = totp.provisioning_uri(secret, account.email, ISSUER)
        return Enrolment(account, totp.qr_svg(uri), totp.format_secret(secret))

    async def confirm_enrolment(
        self, token: str, code: str, client: Client, *, now: dt.datetime | None = None
    ) -> list[str] | None:
        """Finish the invitation with a code from the app: the account is active, the link
        is spent, and ten recovery codes are made and returned (shown once). None if the code
        is wrong."""
        now = now or _now()
        enrolment = await self.enrolment(token)
        account = enrolment.account
        assert account.totp_secret is not None
        step = totp.verify(
            self.ring.open(account.totp_secret), code, last_step=None, now=now.timestamp()
        )
        if step is None:
            return None
        codes = recovery.new_codes()
        async with self.db.write() as conn:
            await staff_q.change(
                conn, account.id, status="active", totp_step=step, invite_nonce=None
            )
            await conn.execute(
                recovery_codes.delete().where(recovery_codes.c.staff_id == account.id)
            )
            await conn.execute(
                recovery_codes.insert(),
                [{"staff_id": account.id, "code_hash": recovery.code_hash(c)} for c in codes],
            )
            ended = await sessions_q.end_all(conn, account.id, now, "re-enrolled")
            await audit_q.record(
                conn,
                "mfa_enrolled",
                at=now,
                staff_id=account.id,
                subject=f"staff:{account.id}",
                detail={"sessions_ended": ended},
                ip=client.ip,
            )
        return codes

    # Signing in --------------------------------------------------------------------------

    async def sign_in(
        self, email: str, password: str, client: Client, *, now: dt.datetime | None = None
    ) -> str:
        """Check the password; return a pending session's token, which only a code can turn
        into a session. The same refusal whether or not the email has an account."""
        now = now or _now()
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
        good = await _verify(stored, password) and bool(stored)
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
        now = now or _now()
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

    # Sessions ----------------------------------------------------------------------------

    async def signed_in(self, token: str, *, now: dt.datetime | None = None) -> Signed | None:
        """The session a cookie's token names, if it is signed in and has not timed out; a
        session past its idle or absolute limit is ended (and audited) here."""
        if not token or len(token) > 100:
            return None
        now = now or _now()
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
        now = _now()
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

    async def reauthenticate(
        self, signed: Signed, password: str, code: str, client: Client
    ) -> bool:
        """Sign in again inside a session (password and code), before a change of password
        or MFA; a wrong try counts towards the lockout like any other."""
        now = _now()
        account = signed.account
        good = bool(account.password_hash) and await _verify(account.password_hash, password)
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

    def recently_reauthenticated(self, signed: Signed) -> bool:
        return _now() - signed.session.reauth_at <= REAUTH_WINDOW

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
        now = _now()
        hashed = await _hash(password)
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
        now = _now()
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


def _email_key(email: str) -> str:
    return f"signin:email:{email.strip().lower()}"


def _address_key(ip: str) -> str:
    return f"signin:ip:{ip}"
