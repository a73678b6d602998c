"""What the sales team reads: the lead list and a lead's page, assembled from the queries and
each widget's kind, within what the account may see.

Every read is scoped by the dealerships the account covers, and a rep's by their own leads
and the unassigned queue: a lead outside that is "not found", whatever its id (rule 11).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import select

from resume import page_vehicle, source
from resume.catalog import Catalog
from resume.consent import follows_up
from resume.dashboard import talk, timeline
from resume.dashboard.talk import step_named
from resume.dashboard.timeline import Item
from resume.db import Database
from resume.dealers import Dealer
from resume.definitions import Widget
from resume.errors import NotFound
from resume.keyring import Keyring
from resume.kinds.base import Facts, Scene
from resume.leads import CALLBACK_GRACE, clock
from resume.queries import callbacks as callbacks_q
from resume.queries import dealers as dealers_q
from resume.queries import drafts as drafts_q
from resume.queries import lead_list as lead_list_q
from resume.queries import leads as leads_q
from resume.queries import staff as staff_q
from resume.queries.drafts import DraftState
from resume.queries.lead_list import Filter
from resume.queries.leads import Lead
from resume.queries.staff import Account, Member
from resume.settings import Settings
from resume.staff.roles import role
from resume.tables import consents, suppressions
from resume.tokens import Signer

PAGE = 25
MASK = "••••••"


class Row(msgspec.Struct, frozen=True):
    """One line of the lead list."""

    lead: Lead
    dealer: str
    where: str  # "left at Your numbers, on Down payment" or "in progress at The vehicle"
    touches: int
    clock_minutes: int
    clock: str  # done, ok, amber, red
    target: int  # the dealership's response target, in business minutes
    callback_late: bool
    zone: str  # the dealership's timezone, for times shown


class ListPage(msgspec.Struct, frozen=True):
    rows: list[Row]
    count: int
    capped: bool
    next_after: str  # the keyset cursor of the next page, "" on the last


class Answer(msgspec.Struct, frozen=True):
    label: str
    value: str
    valid: bool
    masked: bool
    field: str


class Section(msgspec.Struct, frozen=True):
    step: str
    answers: list[Answer]


class DraftView(msgspec.Struct, frozen=True):
    draft: DraftState
    widget: Widget
    facts: Facts
    sections: list[Section]
    figures: dict[str, Any]
    figures_private: bool  # figures withheld from this role (the credit estimate)
    # Where the shopper came from (resume.source), in words, and the page, if known.
    came_from: str = ""
    page: str = ""
    # The vehicle the dealer's page named, as it named it (the answers hold what was kept).
    page_vehicle: str = ""


class LeadPage(msgspec.Struct, frozen=True):
    lead: Lead
    dealer: Dealer
    drafts: list[DraftView]
    consents: list[dict[str, Any]]
    email_consent: bool
    suppressed: bool
    talk: talk.Track
    where: str
    clock_minutes: int
    clock: str
    timeline: list[Item]
    callbacks: list[callbacks_q.Callback]
    team: list[Member]
    offer_draft: str  # the draft an offer is made for (a trade-in), "" if none


class Casework:
    def __init__(
        self, settings: Settings, db: Database, ring: Keyring, signer: Signer, catalog: Catalog
    ) -> None:
        self.settings = settings
        self.db = db
        self.ring = ring
        self.signer = signer
        self.catalog = catalog

    def scope(self, account: Account, dealer_ids: tuple[int, ...] = ()) -> Filter:
        """The narrowest filter every list of this account starts from."""
        chosen = tuple(d for d in dealer_ids if d in account.dealer_ids) or account.dealer_ids
        sees_all = role(account.role).sees_every_lead
        return Filter(
            dealer_ids=chosen, only_for=None if sees_all else account.id, viewer_id=account.id
        )

    async def page(
        self,
        account: Account,
        found: Filter,
        *,
        after: tuple[dt.datetime, int] | None = None,
        now: dt.datetime | None = None,
        dealers: Sequence[Dealer] = (),
    ) -> ListPage:
        """A page of the list; `dealers`, if the caller has them already, spares a read."""
        now = now or dt.datetime.now(dt.UTC)
        async with self.db.read() as conn:
            page = await lead_list_q.page(conn, found, now=now, after=after, limit=PAGE + 1)
            count = await lead_list_q.count(conn, found, now=now)
            rows = page[:PAGE]
            known = {d.id: d for d in dealers}
            if any(lead.dealer_id not in known for lead in rows):
                known = {d.id: d for d in await dealers_q.all_dealers(conn)}
        out = []
        # A dealership's widget, made once a page rather than once a row.
        made: dict[tuple[str, int], Widget] = {}
        for lead in rows:
            dealer = known[lead.dealer_id]
            if lead.widget in self.catalog.widgets and (lead.widget, dealer.id) not in made:
                made[lead.widget, dealer.id] = self.catalog.for_dealer(lead.widget, dealer)
            minutes, state = clock(
                lead.captured_at, lead.first_attempt_at, now, dealer.config, dealer.timezone
            )
            out.append(
                Row(
                    lead=lead,
                    dealer=dealer.name,
                    where=self.where(lead, dealer, made.get((lead.widget, dealer.id))),
                    touches=lead.touches_sent,
                    clock_minutes=minutes,
                    clock=state,
                    target=dealer.config.response_minutes,
                    callback_late=lead.callback_due_at is not None
                    and now - lead.callback_due_at > CALLBACK_GRACE,
                    zone=dealer.timezone,
                )
            )
        more = len(page) > PAGE
        last = rows[-1] if rows else None
        key = (
            (last.last_activity_at if found.sort == "activity" else last.captured_at)
            if last
            else None
        )
        cursor = f"{key.isoformat()}|{last.id}" if more and key and last else ""
        return ListPage(
            out, min(count, lead_list_q.COUNT_CAP), count > lead_list_q.COUNT_CAP, cursor
        )

    def where(self, lead: Lead, dealer: Dealer, widget: Widget | None = None) -> str:
        """Where the shopper is, in words: the step and field they left on, or are on."""
        if lead.widget not in self.catalog.widgets:
            return ""
        widget = widget or self.catalog.for_dealer(lead.widget, dealer)
        if lead.exit_at is not None and lead.exit_step:
            step = step_named(widget, lead.exit_step)
            field = step.field(lead.exit_field) if step and lead.exit_field else None
            title = step.title if step else lead.exit_step
            return f"left at {title}, on {field.label}" if field else f"left at {title}"
        step = step_named(widget, lead.step)
        return f"in progress at {step.title if step else lead.step}"

    async def lead(
        self, account: Account, lead_id: int, *, reveal: tuple[str, str] | None = None
    ) -> LeadPage:
        """A lead's page; `reveal` (draft id, field) unmasks one value for a role that may."""
        now = dt.datetime.now(dt.UTC)
        async with self.db.read() as conn:
            lead = await self.visible(conn, account, lead_id)
            dealer = await dealers_q.get(conn, lead.dealer_id)
            assert dealer is not None
            ids = await leads_q.draft_ids(conn, lead.id)
            states = [s for i in ids if (s := await drafts_q.load(conn, i, ring=self.ring))]
            consent_rows = (
                await conn.execute(
                    select(
                        consents.c.draft_id, consents.c.kind, consents.c.text_version, consents.c.at
                    )
                    .where(consents.c.draft_id.in_(ids))
                    .order_by(consents.c.at)
                )
            ).all()
            suppressed = bool(
                lead.email
                and (
                    await conn.execute(
                        select(suppressions.c.id).where(
                            suppressions.c.dealer_id == dealer.id,
                            suppressions.c.email == lead.email,
                        )
                    )
                ).first()
            )
            items = await timeline.read(conn, self.catalog, lead, ids, states)
            callbacks = await callbacks_q.open_callbacks(conn, lead.id)
            team = await staff_q.team(conn, (dealer.id,))
            sources = await drafts_q.sources(conn, ids)
        may = role(account.role)
        views = [
            msgspec.structs.replace(
                await self._draft(dealer, s, may.may_reveal, reveal),
                came_from=source.label(sources.get(s.id, {})),
                page=sources.get(s.id, {}).get("page") or "",
                page_vehicle=_page_vehicle(sources.get(s.id, {}).get("page_vehicle") or {}),
            )
            for s in states
        ]
        said = talk.track(self.catalog, dealer, lead, states)
        minutes, state = clock(
            lead.captured_at, lead.first_attempt_at, now, dealer.config, dealer.timezone
        )
        return LeadPage(
            lead=lead,
            dealer=dealer,
            drafts=views,
            consents=[
                {"kind": c.kind, "version": c.text_version, "at": c.at, "draft": c.draft_id}
                for c in consent_rows
            ],
            email_consent=any(follows_up(s.values) for s in states),
            suppressed=suppressed,
            talk=said,
            where=self.where(lead, dealer),
            clock_minutes=minutes,
            clock=state,
            timeline=items,
            callbacks=callbacks,
            team=[m for m in team if m.status == "active"],
            offer_draft=next(
                (
                    s.id
                    for s in states
                    if s.widget in self.catalog.kinds and self.catalog.kind(s.widget).takes_offers
                ),
                "",
            ),
        )

    async def visible(self, conn: Any, account: Account, lead_id: int) -> Lead:
        """The lead if this account may see it, else NotFound (never "forbidden": an id of
        another dealership or of another rep's lead must not be told apart from no lead)."""
        lead = await leads_q.get(conn, lead_id, account.dealer_ids)
        if lead is None:
            raise NotFound("There is no such lead.")
        if not role(account.role).sees_every_lead and lead.owner_id not in (None, account.id):
            raise NotFound("There is no such lead.")
        return lead

    async def _draft(
        self,
        dealer: Dealer,
        state: DraftState,
        may_reveal: bool,
        reveal: tuple[str, str] | None,
    ) -> DraftView:
        widget = self.catalog.for_dealer(state.widget, dealer)
        kind = self.catalog.kind(state.widget)
        sensitive = widget.sensitive()
        sections = []
        for step in widget.steps:
            answers = []
            for field in step.fields:
                stored = state.values.get(field.name)
                if stored is None:
                    continue
                shown = field.name not in sensitive or (
                    may_reveal and reveal == (state.id, field.name)
                )
                answers.append(
                    Answer(
                        label=field.label,
                        value=_as_read(field, stored.value) if shown else MASK,
                        valid=stored.valid,
                        masked=not shown,
                        field=field.name,
                    )
                )
            if answers:
                sections.append(Section(step.title, answers))
        result = next((s for s in widget.steps if s.kind == "result"), None)
        scene = Scene(
            dealer=dealer,
            widget=widget,
            steps=widget.steps_for(dealer.config.flags()),
            settings=self.settings,
            db=self.db,
            ring=self.ring,
            signer=self.signer,
        )
        figures = await kind.page_context(scene, result, state) if result else {}
        private = bool(sensitive) and not may_reveal
        return DraftView(
            draft=state,
            widget=widget,
            facts=kind.facts(widget, dealer, state),
            sections=sections,
            figures={} if private else figures,
            figures_private=private and bool(figures),
        )


def _as_read(field: Any, value: str) -> str:
    if field.type == "choice":
        return next((c.label for c in field.choices if c.value == value), value)
    if field.type == "checkbox":
        return "Yes" if value.strip().lower() in {"on", "yes", "1", "true"} else "No"
    return value


def _page_vehicle(given: dict[str, str]) -> str:
    """The page's vehicle in a line for staff: 2025 Toyota RAV4 XLE · new · $34250 · stock
    T1234 · VIN ..., each value as the page wrote it."""
    parts = [
        page_vehicle.headline(given),
        given.get("condition", ""),
        f"${given['price'].lstrip('$')}" if given.get("price") else "",
        f"stock {given['stock']}" if given.get("stock") else "",
        f"VIN {given['vin']}" if given.get("vin") else "",
    ]
    return " · ".join(p for p in parts if p)
