"""What leaves the dashboard as a file (issue #10, item 4): the lead list as CSV, with the
list's own filters and the account's scope, streamed a page at a time; and one lead's ADF
document. Both are audited before the first byte goes out (design rule 6)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from resume import adf
from resume.catalog import Catalog
from resume.dashboard.casework import Casework
from resume.db import Database
from resume.dealers import Dealer
from resume.errors import NotFound
from resume.keyring import Keyring
from resume.leads import STATUSES
from resume.queries import audit as audit_q
from resume.queries import dealers as dealers_q
from resume.queries import drafts as drafts_q
from resume.queries import lead_list as lead_list_q
from resume.queries import leads as leads_q
from resume.queries.drafts import DraftState
from resume.queries.lead_list import Filter
from resume.queries.staff import Account
from resume.staff.roles import role

# Each read is one page of the list, in its own short transaction: an export of a million
# leads never holds the database open for its whole length.
PAGE = 500
# A spreadsheet runs a cell that begins with one of these as a formula (CSV injection): such
# a cell gets a leading apostrophe, which the spreadsheet shows as text (OWASP's advice).
FORMULA = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "lead",
    "dealership",
    "name",
    "email",
    "phone",
    "status",
    "owner",
    "widget",
    "where",
    "captured (dealership's time)",
    "last activity (dealership's time)",
    "first attempt (dealership's time)",
    "attempts",
    "follow-ups sent",
    "came back",
    "page",
)


def cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA) else text


class Exports:
    def __init__(
        self,
        db: Database,
        ring: Keyring,
        catalog: Catalog,
        resume_url: Callable[[Dealer, DraftState], str],
        casework: Casework,
        base_url: str,
    ) -> None:
        self.db = db
        self.ring = ring
        self.catalog = catalog
        # The mail's resume link, as the CRM's ADF carries it (resume.mail.Composer's).
        self.resume_url = resume_url
        self.casework = casework
        self.base_url = base_url

    def _may(self, account: Account) -> None:
        # Exporting contacts in bulk is for those who may reveal (admins, managers).
        if not role(account.role).may_reveal:
            raise NotFound()

    async def start_csv(
        self, account: Account, found: Filter, query: Mapping[str, str], ip: str = ""
    ) -> None:
        """Record the export, with the filter it uses, before any row is read."""
        self._may(account)
        async with self.db.write() as conn:
            for dealer_id in found.dealer_ids:
                await audit_q.record(
                    conn,
                    "leads_exported",
                    at=dt.datetime.now(dt.UTC),
                    staff_id=account.id,
                    dealer_id=dealer_id,
                    subject="leads.csv",
                    ip=ip,
                    detail={"filter": dict(query), "format": "csv"},
                )

    async def csv_lines(self, account: Account, found: Filter) -> AsyncIterator[bytes]:
        """The list as CSV lines (UTF-8, with a BOM so spreadsheets read it as such)."""
        self._may(account)
        now = dt.datetime.now(dt.UTC)
        async with self.db.read() as conn:
            dealers = {d.id: d for d in await dealers_q.all_dealers(conn)}
        yield "\ufeff".encode() + _line(COLUMNS)
        # A dealership's widget, made once an export rather than once a row.
        made: dict[tuple[str, int], Any] = {}
        after: tuple[dt.datetime, int] | None = None
        while True:
            async with self.db.read() as conn:
                page = await lead_list_q.page(conn, found, now=now, after=after, limit=PAGE)
            chunk = io.StringIO()
            writer = csv.writer(chunk, lineterminator="\r\n")
            for lead in page:
                dealer = dealers[lead.dealer_id]
                zone = ZoneInfo(dealer.timezone)
                widget = None
                if lead.widget in self.catalog.widgets:
                    key = (lead.widget, dealer.id)
                    if key not in made:
                        made[key] = self.catalog.for_dealer(lead.widget, dealer)
                    widget = made[key]
                writer.writerow(
                    [
                        cell(v)
                        for v in (
                            lead.id,
                            dealer.name,
                            lead.name,
                            lead.email,
                            lead.phone,
                            STATUSES.get(lead.status, lead.status),
                            lead.owner,
                            self.catalog.widgets[lead.widget].title
                            if lead.widget in self.catalog.widgets
                            else lead.widget,
                            self.casework.where(lead, dealer, widget),
                            _local(lead.captured_at, zone),
                            _local(lead.last_activity_at, zone),
                            _local(lead.first_attempt_at, zone),
                            lead.attempts,
                            lead.touches_sent,
                            "yes" if lead.came_back else "",
                            f"{self.base_url}/dashboard/leads/{lead.id}",
                        )
                    ]
                )
            if chunk.tell():
                yield chunk.getvalue().encode()
            if len(page) < PAGE:
                return
            last = page[-1]
            key = last.last_activity_at if found.sort == "activity" else last.captured_at
            after = (key, last.id)

    async def adf(
        self, account: Account, lead_id: int, draft_id: str = "", ip: str = ""
    ) -> tuple[str, bytes]:
        """One of a lead's drafts (its latest unless named) as the ADF document a CRM gets."""
        self._may(account)
        async with self.db.write() as conn:
            lead = await self.casework.visible(conn, account, lead_id)
            ids = await leads_q.draft_ids(conn, lead.id)
            chosen = draft_id or (ids[-1] if ids else "")
            if chosen not in ids:
                raise NotFound("That lead has no such draft.")
            draft = await drafts_q.load(conn, chosen, ring=self.ring)
            dealer = await dealers_q.get(conn, lead.dealer_id)
            if draft is None or dealer is None or draft.widget not in self.catalog.widgets:
                raise NotFound("That lead has no such draft.")
            widget = self.catalog.for_dealer(draft.widget, dealer)
            facts = self.catalog.kind(draft.widget).facts(widget, dealer, draft)
            now = dt.datetime.now(dt.UTC)
            body = adf.lead(
                draft=draft,
                dealer=dealer,
                widget=widget,
                parts=facts.adf,
                moment="",
                resume_url=self.resume_url(dealer, draft),
                resend=False,
                when=now,
            )
            await audit_q.record(
                conn,
                "adf_downloaded",
                at=now,
                staff_id=account.id,
                dealer_id=dealer.id,
                subject=f"lead:{lead.id}",
                ip=ip,
                detail={"draft": draft.id, "widget": draft.widget},
            )
        return f"lead-{lead.id}-{draft.widget}.xml", body


def _local(when: dt.datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else ""


def _line(values: tuple[Any, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([cell(v) for v in values])
    return out.getvalue().encode()
