"""The funnel (issue #10, item 2): a small history made by shoppers and a manager through the
product's own pages, its figures worked out here from what each shopper did, read back from
the page and from its summary rows, and each figure's link to the leads behind it; on SQLite
and PostgreSQL. The summary rows kept as things happened equal a recount from the stored
drafts (resume.queries.funnel.rebuild)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from conftest import (
    HALFWAY,
    NUMBERS,
    SECRET_KEYS,
    VEHICLE,
    Shopper,
    Staff,
    Store,
    deliver,
    run,
    saved_for_later,
)
from test_dashboard_security import other_dealer
from test_tradein import CONTACT as TRADE_CONTACT
from test_tradein import _through

from resume.catalog import Catalog
from resume.db import Database
from resume.tokens import ResumeLink, Signer

MANAGER = "morgan.mgr@demo-motors.example"
REP = "riley.rep@demo-motors.example"


def later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def summary(store: Store, widget: str = "payment") -> dict[tuple[str, str, str], int]:
    """The summary rows of one widget, summed over days and sources; and the totals over the
    sources (funnel_totals, what a page of every source reads) checked to be their sums."""
    by_day: dict[tuple[Any, ...], int] = {}
    for r in store.rows("SELECT dealer_id, widget, day, kind, step, field, n FROM funnel_counts"):
        key = tuple(r.values())[:-1]
        by_day[key] = by_day.get(key, 0) + r["n"]
    totals = {
        tuple(r.values())[:-1]: r["n"]
        for r in store.rows(
            "SELECT dealer_id, widget, day, kind, step, field, n FROM funnel_totals"
        )
    }
    assert totals == by_day
    found: dict[tuple[str, str, str], int] = {}
    for r in store.rows(
        "SELECT kind, step, field, n FROM funnel_counts WHERE widget = :w", w=widget
    ):
        key = (r["kind"], r["step"], r["field"])
        found[key] = found.get(key, 0) + r["n"]
    return found


def all_rows(store: Store) -> list[tuple[Any, ...]]:
    return sorted(
        tuple(r.values())
        for r in store.rows(
            "SELECT dealer_id, widget, day, source, kind, step, field, n FROM funnel_counts"
        )
    )


class History:
    """Four shoppers and a manager, each doing something the test knows the count of."""

    def __init__(self, client: Any, settings: Any, store: Store) -> None:
        # P1, from a paid search ad: the vehicle, then a wrong term, then gone; no contact.
        self.p1 = Shopper(client)
        self.p1.page = client.get(f"{self.p1.base}?utm_source=Google&utm_medium=cpc")
        self.p1.fill("vehicle", **VEHICLE)
        self.p1.fill("numbers", action="back", **HALFWAY)
        # P2: saves for later with an email on the numbers step (a wrong term), leaves.
        self.p2 = Shopper(client)
        self.p2_draft = saved_for_later(self.p2, "pat@example.com", consent=True, numbers=HALFWAY)
        # P3: a year that can't be right on the vehicle step, and gone.
        self.p3 = Shopper(client)
        self.p3.start()
        self.p3.fill("vehicle", **{**VEHICLE, "year": "1890"})
        # P4: asks for a trade-in offer, to the end (another widget's funnel).
        self.p4 = Shopper(client, widget="trade-in")
        _through(self.p4)
        self.p4.fill("contact", **TRADE_CONTACT)
        # The exit detector finds P1, P2 and P3 gone.
        deliver(settings, now=later(31))
        # P2 comes back by the link, puts the term right and sees the payment.
        back = Shopper(client)
        token = Signer(SECRET_KEYS).sign_resume(ResumeLink(1, self.p2_draft, 1))
        back.open(f"/r/{token}")
        back.fill("numbers", **NUMBERS)
        self.p2_steps_after = back
        # And leaves again: a second exit is not a second draft exiting.
        store.execute(
            "UPDATE drafts SET updated_at = :t WHERE id = :d",
            t=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
            d=self.p2_draft,
        )
        deliver(settings, now=later(31))
        self.lead = int(
            store.one("SELECT lead_id FROM drafts WHERE id = :d", d=self.p2_draft)["lead_id"]
        )
        # The manager reaches P2 and sells the car.
        self.manager = Staff.active(client, settings, MANAGER, "manager")
        self.manager.post(
            f"/dashboard/leads/{self.lead}/attempt", channel="call", outcome="reached", note=""
        )
        self.manager.post(
            f"/dashboard/leads/{self.lead}/status", status="sold", appointment="", reason=""
        )


@pytest.fixture
def history(client: Any, settings: Any, store: Store) -> History:
    return History(client, settings, store)


def payment_steps(settings: Any) -> list[str]:
    """The payment widget's steps as Demo Motors shows them."""
    from resume.queries import dealers as dealers_q

    async def read() -> list[str]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                dealer = await dealers_q.get_by_slug(conn, "demo-motors")
        finally:
            await db.dispose()
        assert dealer is not None
        widget = Catalog.load().for_dealer("payment", dealer)
        return [s.name for s in widget.steps_for(dealer.config.flags())]

    return run(read())  # type: ignore[no-any-return]


def test_each_point_counts_each_draft_once(history: History, settings: Any, store: Store) -> None:
    steps = payment_steps(settings)
    assert steps[:3] == ["vehicle", "plan", "numbers"] and steps[-1] == "result"
    # P1 and P2 passed the vehicle and the plan; only P2 got past the numbers, to the result.
    reached = {"vehicle": 3, "plan": 2, "numbers": 2, "result": 1}
    # Every step between the numbers and the result (a contact step, if shown) P2 passed too.
    expected = {("started", "", ""): 3}
    for name in steps:
        expected[("reached", name, "")] = reached.get(name, 1)
    expected.update(
        {
            # P1 and P2 first left on the wrong term; P3 on the year. P2's second exit is
            # not counted again.
            ("exited", "numbers", "term"): 2,
            ("exited", "vehicle", "year"): 1,
            ("captured", "", ""): 1,
            ("resumed", "", ""): 1,
            # The manager's call reached P2; the sale passes every stage on the way.
            ("contacted", "", ""): 1,
            ("appointment", "", ""): 1,
            ("shown", "", ""): 1,
            ("sold", "", ""): 1,
        }
    )
    assert summary(store) == expected
    exits = store.one(
        "SELECT exits, first_exit_step, first_exit_field FROM drafts WHERE id = :d",
        d=history.p2_draft,
    )
    assert exits == {"exits": 2, "first_exit_step": "numbers", "first_exit_field": "term"}
    trade = summary(store, "trade-in")
    assert trade[("started", "", "")] == 1 and trade[("completed", "", "")] == 1
    assert trade[("captured", "", "")] == 1 and ("exited", "", "") not in trade
    # The sources: P1's campaign, the rest came straight.
    sources = {
        r["source"]: r["n"]
        for r in store.rows(
            "SELECT source, n FROM funnel_counts WHERE widget = 'payment' AND kind = 'started'"
        )
    }
    assert sources == {"google / cpc": 1, "direct": 2}


def test_a_recount_from_the_stored_drafts_gives_the_same_rows(
    history: History, settings: Any, store: Store
) -> None:
    from resume.dashboard.funnel import Funnel

    kept = all_rows(store)
    assert kept
    db = Database(settings)

    async def recount() -> int:
        try:
            return await Funnel(db, Catalog.load()).recount([1])
        finally:
            await db.dispose()

    assert run(recount()) == 4
    assert all_rows(store) == kept


def figures(page: str) -> dict[str, tuple[int, str]]:
    """The table's rows: label → (count, link to its leads)."""
    found = {}
    for label, href, n in re.findall(
        r'<th scope="row">(?:<span class="visually-hidden">[^<]*</span>)?([^<]+)</th>'
        r'<td class="num"><a href="([^"]+)"[^>]*>([\d,]+)</a>',
        page,
    ):
        found[unescape(label)] = (int(n.replace(",", "")), unescape(href))
    return found


def listed_leads(staff: Staff, href: str) -> set[int]:
    page = staff.get(href)
    assert page.status_code == 200, page.text[:800]
    return {int(n) for n in re.findall(r'<a href="/dashboard/leads/(\d+)">', page.text)}


def test_the_page_shows_the_figures_and_each_links_to_its_leads(
    history: History, store: Store, settings: Any
) -> None:
    # Without a widget named, the one with the most drafts begun lately: payment's 3, not the
    # trade-in's 1.
    first = history.manager.get("/dashboard/funnel")
    assert '<h1>Funnel <span class="muted">Estimate your monthly payment</span></h1>' in first.text
    page = history.manager.get("/dashboard/funnel?widget=payment")
    assert page.status_code == 200, page.text[:800]
    assert "<svg" in page.text and 'role="img"' in page.text
    shown = figures(page.text)
    assert shown["Drafts started"][0] == 3
    assert shown["Reached Your numbers"][0] == 2
    assert shown["Partial leads (an email or phone)"][0] == 1
    assert shown["Sold"][0] == 1
    # The leads behind each figure: P2's lead, the only one with a way to reach them.
    lead = history.lead
    for label in (
        "Drafts started",
        "Partial leads (an email or phone)",
        "Came back by a link",
        "Contacted",
        "Sold",
    ):
        assert listed_leads(history.manager, shown[label][1]) == {lead}, label
    term = next(h for _, (_, h) in shown.items() if "step=numbers&field=term" in h)
    assert listed_leads(history.manager, term) == {lead}
    # P3 left on the vehicle and gave no email: the figure counts them, no lead is listed.
    vehicle_exit = next(
        h
        for k, (n, h) in shown.items()
        if "point=exited" in h and "step=vehicle" in h and "field=" not in h
    )
    assert listed_leads(history.manager, vehicle_exit) == set()
    assert "Completed" in shown and shown["Completed"][0] == 0
    # Demo Motors asks for no contact before the result: the step it never shows, which no
    # draft reached, is not listed as one everybody skipped.
    assert "contact" not in payment_steps(settings)
    assert not any("Where should we send your estimate?" in k for k in shown)
    assert "Reached Your estimated payment" in shown
    # The list says which figure it shows, and the chip takes it away.
    listing = history.manager.get(shown["Sold"][1]).text
    assert "From the funnel: Estimate your monthly payment begun" in unescape(listing)


def test_a_source_narrows_the_funnel(history: History) -> None:
    page = history.manager.get(
        "/dashboard/funnel?" + urlencode({"widget": "payment", "source": "google / cpc"})
    )
    shown = figures(page.text)
    assert shown["Drafts started"][0] == 1
    assert shown["Partial leads (an email or phone)"][0] == 0
    assert listed_leads(history.manager, shown["Drafts started"][1]) == set()
    other = history.manager.get(
        "/dashboard/funnel?" + urlencode({"widget": "payment", "source": "direct"})
    )
    assert figures(other.text)["Drafts started"][0] == 2


def test_a_range_before_the_drafts_began_counts_none(history: History) -> None:
    page = history.manager.get("/dashboard/funnel?widget=payment&from=2020-01-01&to=2020-01-31")
    assert page.status_code == 200
    assert figures(page.text)["Drafts started"][0] == 0


def test_another_dealerships_drafts_are_neither_counted_nor_reachable(
    client: Any, settings: Any, store: Store, history: History
) -> None:
    other_dealer(settings)
    elsewhere = Shopper(client, dealer="hilltop-ford")
    elsewhere.start()
    elsewhere.fill("vehicle", **VEHICLE)
    page = history.manager.get("/dashboard/funnel?widget=payment")
    assert figures(page.text)["Drafts started"][0] == 3
    # Demo Motors' manager naming Hilltop Ford: a 404, on the funnel and on its drill-down.
    assert history.manager.get("/dashboard/funnel?dealers=hilltop-ford").status_code == 404
    drill = "/dashboard/leads?began=payment&from=2020-01-01&to=2030-01-01&dealers=hilltop-ford"
    assert history.manager.get(drill).status_code == 404


def test_a_rep_has_no_funnel(client: Any, settings: Any) -> None:
    rep = Staff.active(client, settings, REP, "sales")
    assert rep.get("/dashboard/funnel").status_code == 404
    assert "/dashboard/funnel" not in rep.get("/dashboard/leads").text


@pytest.mark.parametrize(
    "query",
    [
        "widget=nope",
        "widget=payment&from=2026-13-01",
        "widget=payment&from=yesterday",
        "widget=payment&from=2026-11-30&to=2026-11-01",
        "widget=payment&from=2020-01-01&to=2026-11-01",
        "widget=payment&source=" + "x" * 65,
        "widget=payment&source=%20",
        "widget=payment&to=9999-99-99",
        "widget=payment&from=%00",
    ],
)
def test_a_bad_funnel_address_is_a_clear_400(
    client: Any, settings: Any, store: Store, query: str
) -> None:
    manager = Staff.active(client, settings, MANAGER, "manager")
    before = store.snapshot()
    page = manager.get("/dashboard/funnel?" + query)
    assert page.status_code == 400, page.text[:500]
    assert "<h1" in page.text
    assert store.snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        {"began": "nope", "from": "2026-01-01", "to": "2026-12-01"},
        {"began": "payment", "from": "2026-01-01"},
        {"began": "payment", "from": "2026-12-01", "to": "2026-01-01"},
        {"began": "payment", "from": "2026-01-01", "to": "2026-12-01", "point": "bogus"},
        {"began": "payment", "from": "2026-01-01", "to": "2026-12-01", "point": "reached"},
        {
            "began": "payment",
            "from": "2026-01-01",
            "to": "2026-12-01",
            "point": "exited",
            "step": "nope",
        },
        {
            "began": "payment",
            "from": "2026-01-01",
            "to": "2026-12-01",
            "point": "exited",
            "step": "numbers",
            "field": "'; DROP TABLE leads; --",
        },
        {
            "began": "payment",
            "from": "2026-01-01",
            "to": "2026-12-01",
            "point": "sold",
            "field": "term",
        },
        {"began": "payment", "from": "2026-01-01", "to": "2026-12-01", "source": "y" * 65},
    ],
)
def test_a_bad_drill_down_is_a_clear_400(
    client: Any, settings: Any, store: Store, query: dict[str, str]
) -> None:
    manager = Staff.active(client, settings, MANAGER, "manager")
    page = manager.get("/dashboard/leads?" + urlencode(query))
    assert page.status_code == 400, page.text[:500]
    assert store.one("SELECT COUNT(*) AS n FROM leads")["n"] == 0


def test_every_link_on_the_page_is_a_list_the_manager_can_open(history: History) -> None:
    page = history.manager.get("/dashboard/funnel?widget=payment").text
    links = {unescape(h) for h in re.findall(r'href="(/dashboard/leads\?[^"]+)"', page)}
    assert len(links) > 10
    for href in links:
        query = dict(parse_qsl(urlsplit(href).query))
        assert query["began"] == "payment" and query["point"]
        assert history.manager.get(href).status_code == 200, href


def test_a_group_sees_its_stores_together_and_one_at_a_time(
    client: Any, settings: Any, store: Store
) -> None:
    other = other_dealer(settings)
    drafts = {
        slug: saved_for_later(Shopper(client, dealer=slug), f"{slug}@example.com")
        for slug in ("demo-motors", "hilltop-ford")
    }
    leads = {
        slug: int(store.one("SELECT lead_id FROM drafts WHERE id = :d", d=d)["lead_id"])
        for slug, d in drafts.items()
    }
    group = Staff.active(client, settings, "gm@group.example", "manager", dealers=(1, other))
    both = figures(group.get("/dashboard/funnel?widget=payment").text)
    assert both["Drafts started"][0] == 2
    assert listed_leads(group, both["Partial leads (an email or phone)"][1]) == set(leads.values())
    # The form's boxes, one `dealer` each, narrow it as the page's own links do.
    ticked = figures(group.get("/dashboard/funnel?widget=payment&dealer=hilltop-ford").text)
    assert ticked["Drafts started"][0] == 1
    assert listed_leads(group, ticked["Partial leads (an email or phone)"][1]) == {
        leads["hilltop-ford"]
    }
    named = figures(group.get("/dashboard/funnel?dealers=demo-motors,hilltop-ford").text)
    assert named["Drafts started"][0] == 2
