"""Every settings and operations route, as a table (issue #13): what an admin of another
dealership gets (404: the other dealership's things do not exist for them), what a `sales`
account of the same dealership gets (403 or 404), and that nothing changed either way.

Demo Motors holds one of everything a route can name: a queued message, a message kept on
disk, an address on its "do not email" list, a rep. Hilltop Ford's admin and Demo Motors' own
rep then try every route on them, with valid sessions and CSRF tokens of their own.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Shopper, Staff, Store, deliver, saved_for_later
from test_dashboard_security import elsewhere, other_dealer

SLUG = "demo-motors"
SECTIONS = ("details", "finance", "followup", "consent", "credit", "retention", "crm", "branding")


def routes(things: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, form) for each route that names one of Demo Motors' things."""
    s, m, n, e, p = (things[k] for k in ("slug", "message", "mail", "entry", "person"))
    table = [
        ("GET", f"/dashboard/settings/{s}", {}),
        ("GET", f"/dashboard/settings/{s}/embed", {}),
        ("GET", f"/dashboard/settings/{s}/embed?widget=trade-in", {}),
        ("POST", f"/dashboard/settings/{s}/embed", {"add": "https://evil.example"}),
        ("POST", f"/dashboard/settings/{s}/embed", {"remove": "http://localhost:8000"}),
        ("GET", f"/dashboard/preview/{s}/payment", {}),
        ("POST", f"/dashboard/preview/{s}/payment/vehicle", {"action": "continue"}),
    ]
    for name in SECTIONS:
        table.append(("GET", f"/dashboard/settings/{s}/{name}", {}))
    table += [
        ("POST", f"/dashboard/settings/{s}/finance", {"finance.tax_rate": "1"}),
        ("POST", f"/dashboard/settings/{s}/followup", {"cadence": "1m"}),
        ("POST", f"/dashboard/settings/{s}/details", {"dealer.name": "Taken"}),
        ("POST", f"/dashboard/settings/{s}/crm", {"crm_email": "thief@example.com"}),
        ("POST", f"/dashboard/outbox/{m}/stop", {}),
        ("POST", f"/dashboard/outbox/{m}/retry", {}),
        ("POST", f"/dashboard/suppressions/{e}/remove", {"note": "probe"}),
        (
            "POST",
            "/dashboard/suppressions",
            {"dealer": str(things["dealer_id"]), "email": "a@b.example"},
        ),
        ("GET", f"/dashboard/mail/{n}", {}),
        ("GET", f"/dashboard/mail/{n}/html", {}),
        ("GET", f"/dashboard/staff/{p}", {}),
        (
            "POST",
            "/dashboard/staff",
            {"email": "new@example.com", "role": "admin", f"store-{things['dealer_id']}": "1"},
        ),
    ]
    for action in ("access", "disable", "enable", "reset-mfa", "reinvite", "end-session"):
        form = {"role": "admin", f"store-{things['dealer_id']}": "1"} if action == "access" else {}
        table.append(("POST", f"/dashboard/staff/{p}/{action}", form))
    return table


# Routes a sales account is refused outright, whoever's things they name (403 or 404); the
# mail pages show a rep their own mail only, so Demo Motors' shopper mail is a 404 too.
ACCOUNT_PAGES = (
    "/dashboard/settings",
    "/dashboard/staff",
    "/dashboard/outbox",
    "/dashboard/suppressions",
)


@pytest.fixture
def things(client: Any, settings: Any, store: Store) -> dict[str, Any]:
    """One of everything at Demo Motors: a queued and a kept message, a suppressed address,
    a rep (signed in, so with a session)."""
    kept_draft = saved_for_later(Shopper(client), "kept@example.com")
    deliver(settings)
    (row,) = store.rows(
        "SELECT reply FROM outbox WHERE draft_id = :d AND kind = 'resume_link'", d=kept_draft
    )
    queued_draft = saved_for_later(Shopper(client), "queued@example.com")
    (queued,) = store.rows(
        "SELECT id FROM outbox WHERE draft_id = :d AND kind = 'resume_link'", d=queued_draft
    )
    store.execute(
        "INSERT INTO suppressions (dealer_id, email, reason, detail, at) "
        "VALUES (1, 'asked@example.com', 'staff', 'asked by phone', CURRENT_TIMESTAMP)"
    )
    (entry,) = store.rows("SELECT id FROM suppressions WHERE email = 'asked@example.com'")
    rep = Staff.active(client, settings, "riley.rep@demo-motors.example", "sales")
    (person,) = store.rows("SELECT id FROM staff WHERE email = :e", e=rep.email)
    return {
        "slug": SLUG,
        "dealer_id": 1,
        "message": queued["id"],
        "mail": str(row["reply"]).removeprefix("250 kept in "),
        "entry": entry["id"],
        "person": person["id"],
        "rep": rep,
    }


def snapshot(store: Store) -> list[Any]:
    return [
        store.rows("SELECT slug, name, origins, config FROM dealers ORDER BY id"),
        store.rows("SELECT id, status, attempts FROM outbox ORDER BY id"),
        store.rows("SELECT id, email FROM suppressions ORDER BY id"),
        store.rows("SELECT id, email, role, status, totp_secret FROM staff ORDER BY id"),
        store.rows("SELECT staff_id, dealer_id FROM staff_dealers ORDER BY staff_id, dealer_id"),
        store.rows("SELECT id, ended_at FROM staff_sessions ORDER BY id"),
        store.rows("SELECT count(*) AS n FROM drafts"),
    ]


def attempt(person: Staff, method: str, path: str, form: dict[str, str]) -> int:
    """The status `person` gets, posting with their own valid CSRF token."""
    if method == "GET":
        return int(person.client.get(path, follow_redirects=False).status_code)
    person.get("/dashboard/account")
    return int(person.post(path, follow=False, **form).status_code)


def test_another_dealerships_admin_finds_none_of_it(
    client: Any, settings: Any, store: Store, things: dict[str, Any]
) -> None:
    hilltop = other_dealer(settings)
    with elsewhere(settings) as browser:
        outsider = Staff.active(
            browser, settings, "hal.admin@hilltop.example", "admin", dealers=(hilltop,)
        )
        before = snapshot(store)
        got = {(m, p): attempt(outsider, m, p, f) for m, p, f in routes(things)}
        wrong = {route: code for route, code in got.items() if code != 404}
        assert not wrong, f"not a 404 for another dealership's admin: {wrong}"
        assert snapshot(store) == before
        # Their own lists are theirs only: Demo Motors appears on none of them.
        for page in ACCOUNT_PAGES + ("/dashboard/mail", "/dashboard/audit"):
            shown = outsider.client.get(page)
            assert shown.status_code == 200, page
            for secret in ("Demo Motors", "queued@example.com", "asked@example.com", "riley.rep"):
                assert secret not in shown.text, (page, secret)


def test_a_sales_account_is_refused_every_one(
    client: Any, settings: Any, store: Store, things: dict[str, Any]
) -> None:
    rep = things["rep"]
    before = snapshot(store)
    got = {(m, p): attempt(rep, m, p, f) for m, p, f in routes(things)}
    got.update({("GET", p): attempt(rep, "GET", p, {}) for p in ACCOUNT_PAGES})
    wrong = {route: code for route, code in got.items() if code not in (403, 404)}
    assert not wrong, f"neither 403 nor 404 for a sales account: {wrong}"
    assert snapshot(store) == before
