"""Changes to a person's account: invited, role and stores changed, disabled and enabled,
MFA reset, invited again, a session ended. Each is audited in the transaction that makes it.
"""

from __future__ import annotations

import secrets

from resume.dashboard.staffing import base
from resume.dashboard.staffing.base import Access
from resume.errors import BadRequest, Forbidden, NotFound
from resume.queries import sessions as sessions_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account


class Changes(base.Service):
    """Invite, change, disable, enable, reset MFA, end sessions."""

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
                    "before": {"role": target.role, "stores": base.slugs(target.dealer_ids, names)},
                    "after": {"role": access.role, "stores": base.slugs(access.dealer_ids, names)},
                },
                ip,
            )
        return True

    async def disable(self, admin: Account, person_id: int, *, ip: str = "") -> int:
        """Disable an account and end its sessions (the invitation stops working too);
        return how many sessions ended."""
        self._may(admin)
        now = base.now()
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
        now = base.now()
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
        now = base.now()
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
        now = base.now()
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
