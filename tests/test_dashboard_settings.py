"""A dealership's settings in the dashboard (issue #13, item 1), as its admin uses them:
each section shown with what is set, changed, checked as `dealer add` checks it, audited
with what it was and what it became, and seen at once by the running widget and worker;
origins and snippets; the live preview that frames the widget for staff and stores nothing;
and the clear 4xx a hostile or clumsy hand gets, with nothing stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any

import pytest
from conftest import NUMBERS, VEHICLE, Shopper, Staff, Store, deliver, saved_for_later
from test_dashboard_security import a_lead, detail, other_dealer

SLUG = "demo-motors"


@pytest.fixture
def admin(client: Any, settings: Any) -> Staff:
    """The dealership's admin, signed in: the one role that may change its settings."""
    return Staff.active(client, settings, "ada.admin@demo-motors.example", "admin")


def config(store: Store, slug: str = SLUG) -> dict[str, Any]:
    value = store.one("SELECT config FROM dealers WHERE slug = :s", s=slug)["config"]
    return json.loads(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def audited(store: Store, action: str = "settings_changed") -> list[dict[str, Any]]:
    return [
        detail(r)
        for r in store.rows("SELECT detail FROM audit WHERE action = :a ORDER BY id", a=action)
    ]


def form_values(page: Any) -> dict[str, str]:
    """What the page's settings form would send as it stands: its boxes as filled in."""
    text = page.text
    values = {}
    for name, value in re.findall(
        r'<input type="(?:text|email)" id="[^"]+" name="([^"]+)" value="([^"]*)"', text
    ):
        values[name] = unescape(value)
    for name, value in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', text
    ):
        values[name] = unescape(value)
    for name, value in re.findall(
        r'<input type="radio" name="([^"]+)" id="[^"]+" value="([^"]+)" checked>', text
    ):
        values[name] = value
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', text, re.S
    ):
        chosen = re.search(r'<option value="([^"]+)" selected>', body)
        if chosen:
            values[name] = chosen.group(1)
    return values


def section(admin: Staff, name: str) -> dict[str, str]:
    """Open a settings page; what its form holds now."""
    page = admin.get(f"/dashboard/settings/{SLUG}/{name}")
    assert page.status_code == 200, page.text[:2000]
    return form_values(page)


def change(admin: Staff, name: str, action: str = "save", **typed: str) -> Any:
    """Send a settings form as the page holds it, with `typed` changed (dots as __)."""
    fields = section(admin, name)
    fields.update({k.replace("__", "."): v for k, v in typed.items()})
    return admin.post(f"/dashboard/settings/{SLUG}/{name}", action=action, **fields)


def test_every_section_shows_what_is_set(admin: Staff) -> None:
    home = admin.get(
        "/dashboard/settings",
    )
    # One dealership: straight to its page, every section with what is set now.
    assert home.url.path == f"/dashboard/settings/{SLUG}"
    text = unescape(home.text)
    for title in (
        "Dealership details",
        "Finance defaults",
        "Follow-up",
        "Consent",
        "Credit and trade-in",
        "Retention",
        "CRM",
        "Branding",
        "Embed on your site",
    ):
        assert title in text
    assert "Demo Motors" in text and "leads@demo-motors.example" in text
    assert section(admin, "followup")["cadence"] == "1h, 1d, 3d, 7d, 14d"
    assert section(admin, "finance")["finance.residuals"] == "24: 64, 36: 58, 39: 56, 48: 50"
    assert section(admin, "details")["business_hours.sun"] == "11-17"
    assert section(admin, "branding")["theme.accent"] == "#0b5cad"
    assert section(admin, "credit")["trade_in.mode"] == "appraiser"


def test_a_change_is_stored_audited_and_shown_by_the_running_widget(
    admin: Staff, client: Any, store: Store
) -> None:
    done = change(admin, "finance", finance__terms="36, 48, 60", finance__tax_rate="7.5")
    assert "Finance defaults: saved" in unescape(done.text)
    stored = config(store)["finance"]
    assert stored["terms"] == [36, 48, 60] and stored["tax_rate"] == "7.5"
    (entry,) = audited(store)
    assert entry["section"] == "finance" and entry["by"] == "dashboard"
    assert entry["before"] == {"finance.tax_rate": "6.25", "finance.terms": [36, 48, 60, 72, 84]}
    assert entry["after"] == {"finance.tax_rate": "7.5", "finance.terms": [36, 48, 60]}
    (row,) = store.rows("SELECT staff_id, subject FROM audit WHERE action = 'settings_changed'")
    assert row["subject"] == f"dealer:{SLUG}" and row["staff_id"] is not None
    # The same server, no restart: the shopper's term choices are the new ones.
    shopper = Shopper(client)
    shopper.start()
    page = unescape(
        shopper.fill(
            "vehicle",
            **{
                "condition": "new",
                "year": "2024",
                "make": "Toyota",
                "model": "RAV4",
                "price": "34250",
            },
        ).text
    )
    assert "Finance or lease" in page
    # The loan terms offered for a loan are the new ones (issue #11: the dealer's own terms).
    page = shopper.fill("plan", plan="finance", credit="good").text
    assert re.findall(r'name="term" value="(\d+)"', page) == ["36", "48", "60"]
    # And the colours: the widget's stylesheet is the dealer's new one.
    change(admin, "branding", theme__accent="#5a2d82")
    assert "#5a2d82" in client.get(f"/style/{SLUG}").text


def test_the_worker_follows_a_new_cadence_without_a_restart(
    admin: Staff, client: Any, settings: Any, store: Store
) -> None:
    change(admin, "followup", idle_minutes="10", cadence="2h, 2d")
    draft_id = saved_for_later(Shopper(client), "pat@example.com", consent=True)
    deliver(settings, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11))
    touches = store.rows(
        "SELECT dedupe_key, context FROM outbox WHERE draft_id = :d AND kind = 'followup' "
        "ORDER BY id",
        d=draft_id,
    )
    assert [t["dedupe_key"] for t in touches] == [f"followup:{draft_id}:1:{n}" for n in (1, 2)]
    version = config(store)["cadence_version"]
    assert version.startswith("custom-") and version != "default-2026-11"


@pytest.mark.parametrize(
    ("name", "typed", "box", "message"),
    [
        ("finance", {"finance.tax_rate": "six"}, "finance.tax_rate", "enter a number"),
        ("finance", {"finance.tax_rate": "99"}, "finance.tax_rate", "must be between 0 and 25"),
        ("finance", {"finance.tax_rate": "NaN"}, "finance.tax_rate", "enter a number"),
        ("finance", {"finance.terms": ""}, "finance.terms", "whole numbers separated by commas"),
        ("finance", {"finance.terms": "36, 480"}, "finance.terms", "between 6 and 120 months"),
        ("finance", {"finance.residuals": "36 58"}, "finance.residuals", "pairs like 36: 58"),
        (
            "finance",
            {"finance.money_factors.good": "2.5"},
            "finance.money_factors.good",
            "between 0 and 0.01",
        ),
        (
            "finance",
            {"finance.trade_reduces_tax": "maybe"},
            "finance.trade_reduces_tax",
            "choose yes or no",
        ),
        ("followup", {"cadence": "1d, 2h"}, "cadence", "longer than the one before"),
        ("followup", {"cadence": "200d"}, "cadence", "between 1 minute and 90 days"),
        ("followup", {"sending_hours": "20-8"}, "sending_hours", "must come before the second"),
        ("followup", {"idle_minutes": "-5"}, "idle_minutes", "whole number"),
        ("details", {"dealer.timezone": "Mars/Base"}, "dealer.timezone", "is not a timezone"),
        ("details", {"dealer.lead_email": "leads at demo"}, "dealer.lead_email", "Lead inbox"),
        ("details", {"dealer.name": "x" * 201}, "dealer.name", "200 characters or fewer"),
        ("details", {"business_hours.mon": "9am"}, "business_hours.mon", "like 9-20"),
        ("branding", {"theme.accent": "red"}, "theme.accent", "a colour like #0b5cad"),
        ("branding", {"theme.accent": "#ffdd00"}, "theme.accent_text", "hard to read"),
        # Readable buttons, but links in that yellow on white: 1.3 to 1.
        (
            "branding",
            {"theme.accent": "#ffdd00", "theme.accent_text": "#000000"},
            "theme.accent",
            "Links are hard to read on the background: 1.3 to 1",
        ),
        (
            "credit",
            {"credit.notice": "New words, {dealer}."},
            "credit.notice_version",
            "new version",
        ),
        ("credit", {"credit.notice_version": "v 2!"}, "credit.notice_version", "letters, digits"),
        ("credit", {"credit.provider": "equifax"}, "credit.provider", "choose one of the options"),
        ("credit", {"trade_in.mode": "rules"}, "trade_in.mode", "needs trade_in.rules"),
        ("retention", {"retention_days": "7"}, "retention_days", "between 30 and 3650"),
        ("crm", {"adf_as": "fax"}, "adf_as", "choose one of the options"),
    ],
)
def test_a_value_that_fails_its_check_is_refused_with_its_message_and_nothing_stored(
    admin: Staff, store: Store, name: str, typed: dict[str, str], box: str, message: str
) -> None:
    before = store.one(
        "SELECT name, lead_email, timezone, config FROM dealers WHERE slug = :s", s=SLUG
    )
    fields = {**section(admin, name), **typed}
    page = admin.post(f"/dashboard/settings/{SLUG}/{name}", action="save", **fields)
    assert page.status_code == 400, page.text[:1500]
    text = unescape(page.text)
    assert "There is a problem" in text and "Nothing was saved." in text
    assert message in text, text[:3000]
    # The message is on its box, which the summary links to, and what was typed is kept.
    box_id = "s-" + box.replace(".", "-").replace("_", "-")
    assert f'href="#{box_id}"' in page.text and f'id="{box_id}-error"' in page.text
    shown = form_values(page)
    for path, value in typed.items():
        if path in shown and len(value) < 100:  # a select shows no option it lacks
            assert shown[path] == value
    after = store.one(
        "SELECT name, lead_email, timezone, config FROM dealers WHERE slug = :s", s=SLUG
    )
    assert after == before
    assert audited(store) == []


def test_the_sample_payment_shows_the_values_typed_and_stores_nothing(
    admin: Staff, store: Store
) -> None:
    page = change(
        admin,
        "finance",
        action="sample",
        finance__apr_new__good="0",
        finance__tax_rate="0",
        finance__doc_fee="0",
    )
    assert page.status_code == 200
    text = unescape(page.text)
    # $35,000 less $3,000 down at 0 % over 60 months: $533.33 a month.
    assert "Sample payment" in text and "$533.33 a month" in text
    assert form_values(page)["finance.apr_new.good"] == "0"
    assert config(store)["finance"]["apr_new"]["good"] == "6.99"
    assert audited(store) == []


def test_retention_past_two_years_or_under_open_leads_asks_before_saving(
    admin: Staff, client: Any, store: Store
) -> None:
    a_lead(client, store)
    store.execute(
        "UPDATE drafts SET updated_at = :t", t=dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    )
    page = change(admin, "retention", retention_days="60")
    text = unescape(page.text)
    assert page.status_code == 200 and "Check before saving" in text
    assert "1 open lead (not sold or lost) has drafts untouched for more than 60 days" in text
    assert config(store)["retention_days"] == 365
    page = change(admin, "retention", retention_days="1000")
    assert "more than two years" in unescape(page.text) and config(store)["retention_days"] == 365
    done = change(admin, "retention", action="confirm", retention_days="1000")
    assert "Retention: saved" in unescape(done.text)
    assert config(store)["retention_days"] == 1000
    assert audited(store)[0]["after"] == {"retention_days": 1000}


def test_new_consent_words_are_shown_recorded_and_listed_beside_the_old(
    admin: Staff, client: Any, store: Store
) -> None:
    saved_for_later(Shopper(client), "first@example.com", consent=True)
    words = "Email me about this car and offers from Demo Motors. I can unsubscribe any time."
    change(admin, "consent", followup_consent=words)
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    page = shopper.fill("numbers", action="save", **NUMBERS)
    assert words in unescape(page.text)
    shopper.fill(
        "save",
        action="send",
        **{"from": "numbers", "email": "second@example.com", "consent_followup": "yes"},
    )
    texts = [
        r["text"]
        for r in store.rows("SELECT text FROM consents WHERE kind = 'followup' ORDER BY id")
    ]
    assert texts[-1] == words and texts[0] != words
    listed = unescape(admin.get(f"/dashboard/settings/{SLUG}/consent").text)
    assert "Words consents were given to" in listed
    assert words in listed and texts[0] in listed


def test_details_change_the_dealer_row(admin: Staff, store: Store) -> None:
    change(
        admin,
        "details",
        dealer__name="Demo Motors of Springfield",
        dealer__timezone="America/New_York",
        business_hours__sun="",
    )
    row = store.one("SELECT name, timezone FROM dealers WHERE slug = :s", s=SLUG)
    assert row == {"name": "Demo Motors of Springfield", "timezone": "America/New_York"}
    assert "sun" not in config(store)["business_hours"]
    (entry,) = audited(store)
    assert (
        entry["before"]["dealer.name"] == "Demo Motors"
        and entry["after"]["business_hours.sun"] is None
    )


def test_origins_are_added_and_removed_checked_and_audited(admin: Staff, store: Store) -> None:
    page = admin.get(f"/dashboard/settings/{SLUG}/embed")
    first = json_list(store)
    for bad in (
        "www.example.com",
        "https://x.example/path",
        "*",
        "javascript:alert(1)",
        "https://" + "a" * 300,
    ):
        refused = admin.post(f"/dashboard/settings/{SLUG}/embed", add=bad)
        assert refused.status_code == 400 and "is not an origin" in unescape(refused.text)
    assert json_list(store) == first
    added = admin.post(f"/dashboard/settings/{SLUG}/embed", add="HTTPS://Shop.Example.com/")
    assert "are changed" in unescape(added.text)
    assert json_list(store) == [*first, "https://shop.example.com"]
    admin.post(f"/dashboard/settings/{SLUG}/embed", add="https://shop.example.com")
    assert json_list(store) == [*first, "https://shop.example.com"]  # once, not twice
    admin.post(f"/dashboard/settings/{SLUG}/embed", remove=first[0])
    assert json_list(store) == ["https://shop.example.com"]
    last = admin.post(f"/dashboard/settings/{SLUG}/embed", remove="https://shop.example.com")
    assert last.status_code == 400 and "at least one origin" in unescape(last.text)
    gone = admin.post(f"/dashboard/settings/{SLUG}/embed", remove="https://never.example.com")
    assert gone.status_code == 400
    assert [e["after"] for e in audited(store, "origins_changed")] == [
        [*first, "https://shop.example.com"],
        ["https://shop.example.com"],
    ]
    assert page.status_code == 200


def json_list(store: Store) -> list[str]:
    value = store.one("SELECT origins FROM dealers WHERE slug = :s", s=SLUG)["origins"]
    return json.loads(value) if isinstance(value, str) else list(value)


def test_snippets_are_copy_ready_for_each_widget(admin: Staff, settings: Any) -> None:
    page = unescape(admin.get(f"/dashboard/settings/{SLUG}/embed").text)
    for widget in ("payment", "trade-in", "credit"):
        assert f'<iframe src="{settings.base_url}/embed/{SLUG}/{widget}" title=' in page
    # The snippet as copied is HTML: its & written &amp; inside the attribute.
    assert f"{settings.base_url}/embed/{SLUG}/payment?vin={{VIN}}&amp;stock={{STOCK}}" in page
    assert "utm_source={UTM_SOURCE}" in page and "page={PAGE_URL}" in page
    # The credit widget is not about a vehicle on the page: only the source is offered.
    assert f"/embed/{SLUG}/credit?utm_source=" in page


def test_the_preview_is_framed_by_our_dashboard_only_and_stores_nothing(
    admin: Staff, client: Any, store: Store
) -> None:
    embed = admin.get(f"/dashboard/settings/{SLUG}/embed?widget=payment")
    assert "frame-src 'self'" in embed.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in embed.headers["content-security-policy"]
    assert f'src="/dashboard/preview/{SLUG}/payment"' in embed.text
    frame = client.get(f"/dashboard/preview/{SLUG}/payment")
    assert frame.status_code == 200
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
    assert "x-frame-options" not in frame.headers
    assert "nothing typed here is saved" in unescape(frame.text)
    assert f'action="/dashboard/preview/{SLUG}/payment/vehicle"' in frame.text
    token = re.search(r'name="d" value="([^"]+)"', frame.text).group(1)
    moved = client.post(
        f"/dashboard/preview/{SLUG}/payment/vehicle",
        data={"d": token, "action": "continue", **VEHICLE, "email": "leak@example.com"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/dashboard/preview/{SLUG}/payment?step=plan"
    assert client.get(moved.headers["location"]).status_code == 200
    for table in ("drafts", "field_values", "events", "outbox", "leads"):
        assert store.rows(f"SELECT 1 FROM {table}") == [], table
    # The shopper's widget is still framed only by the dealer's own sites.
    shopper = client.get(f"/embed/{SLUG}/payment")
    assert "'self'" not in shopper.headers["content-security-policy"].split("frame-ancestors")[1]
    # Signed out, there is no preview.
    admin.post("/dashboard/logout")
    assert (
        client.get(f"/dashboard/preview/{SLUG}/payment", follow_redirects=False).status_code == 303
    )


def test_hostile_or_clumsy_forms_get_a_clear_4xx_and_change_nothing(
    admin: Staff, client: Any, store: Store
) -> None:
    before = store.one("SELECT config, origins FROM dealers WHERE slug = :s", s=SLUG)
    url = f"/dashboard/settings/{SLUG}/finance"
    embed = f"/dashboard/settings/{SLUG}/embed"

    def posted(path: str, **fields: str) -> Any:
        admin.get(path)  # the form's page first, for its CSRF token
        return admin.post(path, **fields)

    cases = [
        (
            posted(url, action="save", **{"finance.tax_rate": "5", "is_admin": "1"}),
            400,
            "a box we don't know",
        ),
        (posted(url, action="launch", **{"finance.tax_rate": "5"}), 400, "a button we don't know"),
        (posted(url, action="save", **{"finance.tax_rate": "5" * 5000}), 413, ""),
        (
            client.post(url, data={"finance.tax_rate": "5"}, follow_redirects=False),
            403,
            "can't be sent",
        ),
        (
            client.post(
                url,
                content=b"csrf=\xff\xfe",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            400,
            "",
        ),
        (admin.get(f"/dashboard/settings/{SLUG}/secrets"), 404, ""),
        (admin.get(f"/dashboard/settings/{'x' * 300}"), 404, ""),
        (admin.get(f"/dashboard/settings/{SLUG}/embed?widget=nope"), 404, ""),
        (admin.get(f"/dashboard/preview/{SLUG}/nope"), 404, ""),
        (
            posted(embed, add="https://a.example", remove="https://b.example"),
            400,
            "a button we don't know",
        ),
        (posted(embed), 400, "a button we don't know"),
    ]
    for response, code, words in cases:
        assert response.status_code == code, (code, response.text[:500])
        if words:
            assert words in unescape(response.text)
    assert store.one("SELECT config, origins FROM dealers WHERE slug = :s", s=SLUG) == before
    assert audited(store) == [] and audited(store, "origins_changed") == []


def test_follow_up_turned_off_hides_the_box_and_sends_no_follow_up(
    admin: Staff, client: Any, settings: Any, store: Store
) -> None:
    # A shopper who ticked the box before: their touches are queued.
    before = saved_for_later(Shopper(client), "before@example.com", consent=True)
    deliver(settings, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31))
    assert (
        len(store.rows("SELECT id FROM outbox WHERE draft_id = :d AND kind = 'followup'", d=before))
        == 5
    )
    change(admin, "consent", followup_mode="off")
    assert config(store)["followup_mode"] == "off"
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    after = shopper.draft_id
    page = shopper.fill("numbers", action="save", **NUMBERS)
    assert "consent_followup" not in page.text and "Save and finish later" in unescape(page.text)
    shopper.fill("save", action="send", **{"from": "numbers", "email": "after@example.com"})
    kinds = [r["kind"] for r in store.rows("SELECT kind FROM outbox WHERE draft_id = :d", d=after)]
    assert kinds == ["resume_link"]  # the link they asked for still goes
    # Past the idle time: an exit, and no follow-up queued; the earlier touches are stopped
    # when their time comes, as the dealership now sends none.
    deliver(settings, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    assert ("exited", "numbers", None) in [e[:2] + (None,) for e in store.events(after)]
    assert (
        store.rows("SELECT id FROM outbox WHERE draft_id = :d AND kind = 'followup'", d=after) == []
    )
    statuses = {
        r["status"]
        for r in store.rows(
            "SELECT status FROM outbox WHERE draft_id = :d AND kind = 'followup'", d=before
        )
    }
    assert statuses == {"stopped"}


def test_a_group_admin_sets_up_each_of_their_rooftops(
    client: Any, settings: Any, store: Store
) -> None:
    hilltop = other_dealer(settings)
    group = Staff.active(client, settings, "gia.group@example.com", "admin", dealers=(1, hilltop))
    listed = unescape(group.get("/dashboard/settings").text)
    assert "Demo Motors" in listed and "Hilltop Ford" in listed
    page = group.get("/dashboard/settings/hilltop-ford/followup")
    assert page.status_code == 200 and "All your dealerships" in unescape(
        group.get("/dashboard/settings/hilltop-ford").text
    )
    group.get("/dashboard/settings/hilltop-ford/followup")
    fields = {**form_values(group.page), "response_minutes": "15"}
    group.post("/dashboard/settings/hilltop-ford/followup", action="save", **fields)
    assert config(store, "hilltop-ford")["response_minutes"] == 15
    assert config(store)["response_minutes"] == 60  # the other rooftop is untouched
    (row,) = store.rows("SELECT dealer_id FROM audit WHERE action = 'settings_changed'")
    assert row["dealer_id"] == hilltop


def test_an_instant_trade_in_range_is_set_with_the_values_it_needs_in_one_save(
    admin: Staff, store: Store
) -> None:
    change(
        admin,
        "credit",
        trade_in__mode="rules",
        trade_in__rules__values_by_age="0: 32000, 3: 24000, 8: 11000",
    )
    stored = config(store)["trade_in"]
    assert stored["mode"] == "rules"
    assert {int(k): v for k, v in stored["rules"]["values_by_age"].items()} == {
        0: "32000",
        3: "24000",
        8: "11000",
    }
    # Emptying the values while the mode needs them is refused on the mode's box.
    page = change(admin, "credit", trade_in__rules__values_by_age="")
    assert page.status_code == 400 and "needs trade_in.rules" in unescape(page.text)
    assert config(store)["trade_in"]["mode"] == "rules"


def test_two_admins_saving_different_sections_keep_both_changes(
    admin: Staff, settings: Any, store: Store
) -> None:
    """The form one admin is filling was read before another admin saved: saving it puts its
    own changes on the settings as they are now, never the stale rest of the form's read."""
    from conftest import run

    from resume.dashboard.dealership import Dealership
    from resume.dashboard.settings_sections import SECTIONS
    from resume.db import Database
    from resume.queries import staff as staff_q

    async def race() -> None:
        db = Database(settings)
        try:
            pages = Dealership(db)
            async with db.read() as conn:
                account = await staff_q.by_email(conn, admin.email)
            assert account is not None
            stale = await pages.get(account, SLUG)  # the first admin opens Finance
            other = await pages.get(account, SLUG)  # the second opens Follow-up, and saves
            done = await pages.change(account, other, SECTIONS["followup"], {"cadence": "2h"})
            assert done.saved
            done = await pages.change(
                account, stale, SECTIONS["finance"], {"finance.tax_rate": "7"}
            )
            assert done.saved
        finally:
            await db.dispose()

    run(race())
    stored = config(store)
    assert stored["finance"]["tax_rate"] == "7" and stored["cadence"] == [120]
    assert [e["section"] for e in audited(store)] == ["followup", "finance"]
