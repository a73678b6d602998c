"""An account's invitation: the one-time link, the password chosen with it, the TOTP key
enrolled and the recovery codes made."""

from __future__ import annotations

import datetime as dt
import secrets

import msgspec

from resume.consent import Client
from resume.dashboard.accounts import base
from resume.errors import BadRequest, NotFound, TokenInvalid
from resume.queries import audit as audit_q
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account
from resume.staff import passwords, recovery, totp
from resume.staff.roles import role
from resume.tables import recovery_codes
from resume.tokens import Invite

INVITE_HOURS = 24
ISSUER = "resume"


class Enrolment(msgspec.Struct, frozen=True):
    """What the MFA step of an invitation shows: the key as a QR and as text."""

    account: Account
    qr_svg: str
    key: str


class Invitations(base.Service):
    """Invite staff, and let an invitation set a password and enrol MFA."""

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
        now = now or base.now()
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
        now = now or base.now()
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
        hashed = await base.hash_password(password)
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
                at=now or base.now(),
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
        now = now or base.now()
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
