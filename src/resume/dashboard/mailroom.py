"""The mail the embedded default keeps on disk (no RESUME_SMTP_URL): read from its folder
for the local /mail page, and shown in the dashboard to the staff it concerns (issue #13,
item 3).

Who sees what. Kept mail holds resume links, which open a shopper's draft, and personal data,
so a message is shown only through its outbox row, scoped like every staff query (design
rule 11): admins and managers (they run the outbox) see their dealerships' mail; sales and
BDC see only the mail addressed to them (their alerts, a lead inbox that is theirs), which
they would have in their inbox anyway. Every view of a message is audited, with whether it
carried a shopper's resume or unsubscribe link: a view is a read of a credential.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import msgspec

from resume.db import Database
from resume.errors import NotFound
from resume.queries import audit as audit_q
from resume.queries import kept_mail as kept_q
from resume.queries.kept_mail import Kept
from resume.queries.staff import Account
from resume.settings import Settings
from resume.staff.roles import role

PAGE = 50
# The transport names files "20250102-030405-123456-<token>.eml"; anything that could leave
# the folder, or isn't a message, is simply not found.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,118}\.eml")
MAX_BYTES = 5_000_000  # our messages are a few KB; a bigger file is not ours to show
HEAD_BYTES = 64 * 1024  # enough for any header block we write
HEADERS = ("Subject", "From", "To", "Reply-To", "Date", "Message-ID")


def _path(folder: Path, name: str) -> Path:
    if len(name) > 124 or not NAME.fullmatch(name):
        raise NotFound("There is no such message.")
    return folder / name


def read(folder: Path, name: str) -> EmailMessage:
    """The kept message called `name`, or NotFound (a hostile or stale name is never a 500)."""
    path = _path(folder, name)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise NotFound("There is no such message.")
        data = path.read_bytes()
    except OSError:
        raise NotFound("There is no such message.") from None
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def read_headers(folder: Path, name: str) -> dict[str, str] | None:
    """Only the headers of a kept message (a list page reads no bodies); None if it's gone."""
    try:
        with _path(folder, name).open("rb") as file:
            head = file.read(HEAD_BYTES)
    except (OSError, NotFound):
        return None
    parsed = BytesHeaderParser(policy=email.policy.default).parsebytes(head)
    return {key: str(parsed[key] or "") for key in HEADERS}


def names(folder: Path) -> list[str]:
    """Every kept message's name, newest first (names start with the time they were kept)."""
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.glob("*.eml") if NAME.fullmatch(p.name)), reverse=True)


def part(message: EmailMessage, subtype: str) -> str:
    """The message's text or html part, "" if it has none or it can't be decoded."""
    body = message.get_body(preferencelist=(subtype,))
    if body is None:
        return ""
    try:
        return str(body.get_content())
    except (LookupError, UnicodeError, ValueError, KeyError):
        return ""


class Listed(msgspec.Struct, frozen=True):
    """A kept message in the list: its row, and its subject if its file is still there."""

    kept: Kept
    subject: str
    on_disk: bool


class Opened(msgspec.Struct, frozen=True):
    kept: Kept
    headers: dict[str, str]
    text: str
    html: str
    # It carries a link that acts as the shopper: resume their draft, or unsubscribe them.
    credential: bool


class Mailroom:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.folder = Path(settings.mail_dir)

    @property
    def on(self) -> bool:
        """Whether mail is kept at all: with SMTP set nothing is, and the pages are not found."""
        return not self.settings.smtp_url

    def _addressed_to(self, account: Account) -> str | None:
        """None: every message of the account's dealerships; else only those to it."""
        return None if role(account.role).may_run_outbox else account.email

    async def listed(
        self, account: Account, before: int | None = None
    ) -> tuple[list[Listed], bool]:
        """A page of the mail the account may see, last sent first, and whether there is more."""
        if not self.on:
            raise NotFound()
        async with self.db.read() as conn:
            rows = await kept_q.page(
                conn,
                dealer_ids=account.dealer_ids,
                to_addr=self._addressed_to(account),
                before=before,
                limit=PAGE + 1,
            )
        rows, more = rows[:PAGE], len(rows) > PAGE
        # A page's cost is its own fifty header blocks, however many files the folder holds.
        heads = await asyncio.to_thread(lambda: [read_headers(self.folder, r.name) for r in rows])
        return [
            Listed(kept=r, subject=h["Subject"] if h else "", on_disk=h is not None)
            for r, h in zip(rows, heads, strict=True)
        ], more

    async def opened(self, account: Account, name: str, shown: str, ip: str = "") -> Opened:
        """The message called `name`, if the account may see it, its view audited; `shown`
        says which read it is: the "message" page or its "html" frame."""
        if not self.on:
            raise NotFound()
        message = await asyncio.to_thread(read, self.folder, name)
        message_id = str(message["Message-ID"] or "")
        text, html = part(message, "plain"), part(message, "html")
        links = (f"{self.settings.base_url}/r/", f"{self.settings.base_url}/u/")
        credential = any(link in text or link in html for link in links)
        async with self.db.write() as conn:
            kept = await kept_q.by_message_id(
                conn,
                message_id[:200],
                dealer_ids=account.dealer_ids,
                to_addr=self._addressed_to(account),
            )
            if kept is None:
                # Another dealership's, someone else's, or no row of ours: all the same 404.
                raise NotFound("There is no such message.")
            await audit_q.record(
                conn,
                "mail_viewed",
                at=dt.datetime.now(dt.UTC),
                staff_id=account.id,
                dealer_id=kept.dealer_id,
                subject=f"message:{kept.id}",
                detail={"kind": kept.kind, "part": shown, "shopper_link": credential},
                ip=ip,
            )
        return Opened(
            kept=kept,
            headers={key: str(message[key] or "") for key in HEADERS},
            text=text,
            html=html,
            credential=credential,
        )
