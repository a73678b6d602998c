"""What the write path does to leads: a lead made or joined in the save that first captures
an email or phone (`capture`), its activity moved by every later save (`touch`), and the
shopper's exit as the exit detector records it (`record_exit`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import (
    Boolean,
    Connection,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)

from resume.queries import staff as staff_q
from resume.queries import team_counts
from resume.tables import dealers, drafts, leads


class Captured(msgspec.Struct, frozen=True):
    """A draft that has an email or a phone and no lead yet, as a save left it."""

    draft_id: str
    dealer_id: int
    widget: str
    step: str
    email: str | None
    phone: str | None
    name: str
    at: dt.datetime
    demo: bool = False
    # The draft's cohort in the funnel: a new lead's downstream stages count in it.
    cohort_day: str | None = None
    cohort_source: str = ""


def capture(conn: Connection, found: list[Captured]) -> dict[str, int]:
    """Give each draft its lead: the dealership's lead with the same email (else the same
    phone), or a new one with an owner by round-robin. Return the lead id of each draft.

    A draft whose email is one lead's and whose phone is another's joins the first, and the
    second is marked as its possible duplicate.
    """
    made: dict[str, int] = {}
    fresh: list[team_counts.Part] = []
    for draft in found:
        email = draft.email.lower() if draft.email else None
        by_email = _find(conn, draft.dealer_id, leads.c.email, email)
        by_phone = _find(conn, draft.dealer_id, leads.c.phone, draft.phone)
        lead_id = by_email or by_phone
        if lead_id is None:
            lead_id, part = _create(conn, draft, email)
            fresh.append(part)
        else:
            conn.execute(
                update(leads)
                .where(leads.c.id == lead_id)
                .values(
                    email=func.coalesce(leads.c.email, email),
                    phone=func.coalesce(leads.c.phone, draft.phone),
                    name=case((leads.c.name == "", draft.name), else_=leads.c.name),
                    widgets=_add_widget(draft.widget),
                    widget=draft.widget,
                    step=draft.step,
                    last_activity_at=draft.at,
                )
            )
            if by_email and by_phone and by_email != by_phone:
                conn.execute(
                    update(leads)
                    .where(leads.c.id == max(by_email, by_phone))
                    .values(duplicate_of=min(by_email, by_phone))
                )
        conn.execute(update(drafts).where(drafts.c.id == draft.draft_id).values(lead_id=lead_id))
        made[draft.draft_id] = lead_id
    team_counts.add(conn, fresh)
    return made


def _find(conn: Connection, dealer_id: int, column: Any, value: str | None) -> int | None:
    if not value:
        return None
    return conn.execute(
        select(leads.c.id)
        .where(leads.c.dealer_id == dealer_id, column == value)
        .order_by(leads.c.id)
        .limit(1)
    ).scalar_one_or_none()


def _create(conn: Connection, draft: Captured, email: str | None) -> tuple[int, team_counts.Part]:
    """A new lead for the draft, and what it counts for on the team page."""
    owner = None if draft.demo else staff_q.next_owner(conn, draft.dealer_id, draft.at)
    zone = conn.execute(
        select(dealers.c.timezone).where(dealers.c.id == draft.dealer_id)
    ).scalar_one()
    day = team_counts.day_of(draft.at, zone)
    result = conn.execute(
        insert(leads).values(
            dealer_id=draft.dealer_id,
            email=email,
            phone=draft.phone,
            name=draft.name,
            owner_id=owner,
            captured_at=draft.at,
            last_activity_at=draft.at,
            widgets=draft.widget,
            widget=draft.widget,
            step=draft.step,
            demo=draft.demo,
            cohort_day=draft.cohort_day,
            cohort_widget=draft.widget,
            cohort_source=draft.cohort_source,
            captured_day=day,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0]), team_counts.fresh(draft.dealer_id, day, owner)


def _add_widget(widget: str) -> Any:
    listed = "," + leads.c.widgets + ","
    return case(
        (leads.c.widgets == "", widget),
        (listed.contains(f",{widget},"), leads.c.widgets),
        else_=leads.c.widgets + f",{widget}",
    )


# A save of a draft that has a lead: the lead's activity moves, and a shopper who was gone
# is back (rows keyed b_lead, b_at, b_widget, b_step, b_back, b_name).
_TOUCH = (
    update(leads)
    .where(leads.c.id == bindparam("b_lead"))
    .values(
        last_activity_at=bindparam("b_at"),
        widget=bindparam("b_widget"),
        step=bindparam("b_step"),
        exit_at=None,
        came_back_at=case(
            (bindparam("b_back", type_=Boolean()), bindparam("b_at")),
            else_=leads.c.came_back_at,
        ),
        name=case(
            (and_(leads.c.name == "", bindparam("b_name") != ""), bindparam("b_name")),
            else_=leads.c.name,
        ),
    )
)


def touch(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_TOUCH, rows)


def record_exit(
    conn: Connection, lead_id: int, at: dt.datetime, step: str, field: str | None
) -> None:
    conn.execute(
        update(leads)
        .where(leads.c.id == lead_id)
        .values(exit_at=at, exit_step=step, exit_field=field)
    )
