"""The outbox and the suppression list as the dealership's admins and managers see them
(issue #13, item 3): what was sent, what waits and what died, with the error; a dead message
sent again, a queued one stopped; addresses never to email, added and removed with a reason.
Each action is audited in the transaction that makes it (design rule 11), and whatever
belongs to a dealership the account doesn't cover is not found (design rule 2).
"""

from __future__ import annotations

import datetime as dt

from resume.db import Database
from resume.errors import BadRequest, NotFound
from resume.queries import audit as audit_q
from resume.queries import outbox as outbox_q
from resume.queries import suppressions as suppressions_q
from resume.queries.outbox import STATUSES, Message
from resume.queries.staff import Account
from resume.queries.suppressions import Suppression
from resume.staff.roles import role

PAGE = 50
# What staff call each kind of message.
KINDS = {
    "resume_link": "Resume link",
    "followup": "Follow-up",
    "offer": "Trade-in offer",
    "alert": "Staff alert",
    "adf": "ADF lead (CRM)",
}


class Operations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _may(self, account: Account) -> None:
        if not role(account.role).may_run_outbox:
            raise NotFound()

    async def messages(
        self, account: Account, status: str, kind: str = "", before: int | None = None
    ) -> tuple[list[Message], bool]:
        """A page of the account's dealerships' messages with this status, and whether there
        are more."""
        self._may(account)
        if status not in STATUSES:
            raise BadRequest("There is no such status to filter by.")
        if kind and kind not in KINDS:
            raise BadRequest("There is no such kind of message to filter by.")
        async with self.db.read() as conn:
            found = await outbox_q.page(
                conn,
                dealer_ids=account.dealer_ids,
                status=status,
                kind=kind,
                before=before,
                limit=PAGE + 1,
            )
        return found[:PAGE], len(found) > PAGE

    async def retry(self, account: Account, message_id: int, ip: str = "") -> None:
        await self._act(account, message_id, "retry", ip)

    async def stop(self, account: Account, message_id: int, ip: str = "") -> None:
        await self._act(account, message_id, "stop", ip)

    async def _act(self, account: Account, message_id: int, action: str, ip: str) -> None:
        self._may(account)
        now = dt.datetime.now(dt.UTC)
        async with self.db.write() as conn:
            message = await outbox_q.get(conn, message_id)
            if message is None or message.dealer_id not in account.dealer_ids:
                raise NotFound("There is no such message.")
            if action == "retry":
                done = await outbox_q.retry(conn, message_id)
                refusal = "Only a message that died can be sent again."
            else:
                done = await outbox_q.stop(conn, message_id, now)
                refusal = "Only a queued message no worker is sending right now can be stopped."
            if not done:
                raise BadRequest(refusal, title="That can't be done to this message")
            await audit_q.record(
                conn,
                "outbox_retried" if action == "retry" else "outbox_stopped",
                at=now,
                staff_id=account.id,
                dealer_id=message.dealer_id,
                subject=f"message:{message.id}",
                detail={"kind": message.kind, "was": message.status},
                ip=ip,
            )


# The reasons an address is suppressed, as staff read them.
SUPPRESSION_REASONS = {
    "unsubscribe": "Unsubscribed (only they can undo it)",
    "bounce": "Bounced for good",
    "manual": "Entered by staff",
}
NOTE_CHARS = 500


class Suppressions:
    """The addresses a dealership must not email: listed, added with a reason, removed with
    one (never an unsubscribe: that is the shopper's to undo). Each change audited."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _may(self, account: Account) -> None:
        if not role(account.role).may_run_outbox:
            raise NotFound()

    async def listed(
        self, account: Account, email: str = "", before: int | None = None
    ) -> tuple[list[Suppression], bool]:
        self._may(account)
        if len(email) > 320:
            raise BadRequest("That is longer than any email address.")
        async with self.db.read() as conn:
            found = await suppressions_q.page(
                conn, dealer_ids=account.dealer_ids, email=email, before=before, limit=PAGE + 1
            )
        return found[:PAGE], len(found) > PAGE

    async def add(
        self, account: Account, dealer_id: int, email: str, note: str, ip: str = ""
    ) -> int:
        """Suppress an address (already a valid one, lower-cased); return how many queued
        messages to it were stopped."""
        self._may(account)
        if dealer_id not in account.dealer_ids:
            raise NotFound()
        note = _note(note)
        now = dt.datetime.now(dt.UTC)
        async with self.db.write() as conn:
            cancelled = await suppressions_q.add(conn, dealer_id, email, "manual", detail=note)
            await audit_q.record(
                conn,
                "suppression_added",
                at=now,
                staff_id=account.id,
                dealer_id=dealer_id,
                subject="suppression",
                detail={"note": note, "queued_stopped": cancelled},
                ip=ip,
            )
        return cancelled

    async def remove(self, account: Account, suppression_id: int, note: str, ip: str = "") -> None:
        self._may(account)
        note = _note(note)
        async with self.db.write() as conn:
            found = await suppressions_q.get(conn, suppression_id)
            if found is None or found.dealer_id not in account.dealer_ids:
                raise NotFound("There is no such address on the list.")
            if not await suppressions_q.remove(conn, suppression_id):
                raise BadRequest(
                    "This address was unsubscribed by its owner: only they can ask for email "
                    "again, by giving their consent in a widget.",
                    title="That can't be undone here",
                )
            await audit_q.record(
                conn,
                "suppression_removed",
                at=dt.datetime.now(dt.UTC),
                staff_id=account.id,
                dealer_id=found.dealer_id,
                subject=f"suppression:{suppression_id}",
                detail={"note": note, "was": found.reason},
                ip=ip,
            )


def _note(note: str) -> str:
    note = " ".join(note.split())
    if len(note) < 4:
        raise BadRequest("Say why, in a few words: it goes into the audit.")
    return note[:NOTE_CHARS]
