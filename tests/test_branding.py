"""A dealer's brand on its widgets (issue #11, item 4): a logo on one of its own sites and a
font stack, set on the command line or the dashboard's Branding page and refused there alike
when hostile; the widget header and stylesheet that show them, and the one extra image origin
the page's CSP allows. And what shoppers and staff read instead of internal codes: the credit
notice dated, never its version id, and the step's title in the CRM's lead.
"""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import Mailbox, Shopper, Staff, Store, deliver, resume_cli
from test_alerts import adf_document, to_showroom, with_crm
from test_credit import _notice_token, _to_consent
from test_dashboard_settings import audited, change, config, form_values

SLUG = "demo-motors"
FONT = '"Source Sans 3", Arial, sans-serif'
HOSTILE = [
    ({"logo": "https://evil.example/logo.png"}, "is not one"),
    ({"logo": "javascript:alert(1)"}, "starting https://"),
    ({"logo": "data:image/svg+xml,<svg/onload=alert(1)>"}, "starting https://"),
    ({"font": "Arial; } body { background: url(https://evil.example/x)"}, "can't contain ';'"),
    ({"font": "Arial, url(https://evil.example/x)"}, "can't contain '('"),
    ({"font": '"Arial, sans-serif'}, "quotes in pairs"),
    ({"font": "inherit"}, "not CSS keywords"),
]


def origin(store: Store) -> str:
    """Demo Motors' embed origin: the one site its logo may be on."""
    found = store.one("SELECT origins FROM dealers WHERE slug = :s", s=SLUG)["origins"]
    return str((json.loads(found) if isinstance(found, str) else found)[0])


def img_src(page: Any) -> list[str]:
    policy = page.headers["content-security-policy"]
    (images,) = [d.split()[1:] for d in policy.split(";") if d.split()[:1] == ["img-src"]]
    return images


@pytest.fixture
def admin(client: Any, settings: Any) -> Staff:
    """The dealership's admin, signed in: the one role that may change its branding."""
    return Staff.active(client, settings, "ada.admin@demo-motors.example", "admin")


def test_a_logo_and_font_set_on_the_command_line_brand_every_widget_page(
    client: Any, settings: Any, store: Store, tmp_path: Path
) -> None:
    logo = f"{origin(store)}/brand/logo.png"
    theme = {"theme": {"logo": logo, "font": FONT}}
    done = resume_cli(settings, tmp_path, "dealer", "config", SLUG, "--set", json.dumps(theme))
    assert done.returncode == 0, done.stderr
    stored = config(store)["theme"]
    assert stored["logo"] == logo and stored["font"] == FONT
    assert stored["accent"] == "#0b5cad"  # the other colours kept: one level merged
    for widget in ("payment", "trade-in", "credit"):
        shopper = Shopper(client, widget=widget)
        page = shopper.start()
        # The logo stands for the name: its alt text is the name, not said twice.
        assert f'<img class="logo" src="{logo}" alt="Demo Motors">' in page.text
        assert '<span class="dealer">' not in page.text
        # That one site may serve the page an image; no other, and still no script.
        assert img_src(page) == ["'self'", "data:", origin(store)]
        assert "script-src 'none'" in page.headers["content-security-policy"]
    css = client.get(f"/style/{SLUG}").text
    assert f"--font: {FONT};" in css and "font: 16px/1.5 var(--font)" in css


def test_hostile_branding_on_the_command_line_is_refused_and_nothing_stored(
    client: Any, settings: Any, store: Store, tmp_path: Path
) -> None:
    before = store.snapshot()
    for theme, says in HOSTILE:
        refused = resume_cli(
            settings, tmp_path, "dealer", "config", SLUG, "--set", json.dumps({"theme": theme})
        )
        assert refused.returncode == 2, (theme, refused.stdout, refused.stderr)
        assert says in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert store.snapshot() == before
    page = Shopper(client).start()
    assert "<img" not in page.text.split("</header>")[0]
    assert img_src(page) == ["'self'", "data:"]


def test_the_branding_page_sets_a_logo_and_font_the_widget_shows_at_once(
    admin: Staff, client: Any, store: Store
) -> None:
    logo = f"{origin(store)}/logo.svg"
    done = change(admin, "branding", theme__logo=logo, theme__font=FONT)
    assert "Branding: saved" in unescape(done.text), unescape(done.text)[:3000]
    shown = form_values(admin.get(f"/dashboard/settings/{SLUG}/branding"))
    assert shown["theme.logo"] == logo and shown["theme.font"] == FONT
    (entry,) = audited(store)
    assert entry["after"] == {"theme.logo": logo, "theme.font": FONT}
    page = Shopper(client).start()
    assert f'src="{logo}" alt="Demo Motors"' in page.text
    assert origin(store) in img_src(page)
    assert f"--font: {FONT};" in client.get(f"/style/{SLUG}").text
    # Emptied again: the name in text, the system's font, the plain policy.
    change(admin, "branding", theme__logo="", theme__font="")
    page = Shopper(client).start()
    assert '<span class="dealer">Demo Motors</span>' in page.text and "<img" not in page.text
    assert img_src(page) == ["'self'", "data:"]
    assert "--font: system-ui" in client.get(f"/style/{SLUG}").text


@pytest.mark.parametrize(("theme", "says"), HOSTILE)
def test_hostile_branding_in_the_dashboard_is_refused_on_its_box_and_nothing_stored(
    admin: Staff, store: Store, theme: dict[str, str], says: str
) -> None:
    before = store.one("SELECT config FROM dealers WHERE slug = :s", s=SLUG)
    ((name, value),) = theme.items()
    page = change(admin, "branding", **{f"theme__{name}": value})
    assert page.status_code == 400, page.text[:1500]
    text = unescape(page.text)
    assert "Nothing was saved." in text and says.replace("'", "’") in text.replace("'", "’")
    assert f'id="s-theme-{name}-error"' in page.text
    assert form_values(page)[f"theme.{name}"] == value  # what was typed is kept to correct
    assert store.one("SELECT config FROM dealers WHERE slug = :s", s=SLUG) == before
    assert audited(store) == []


def test_a_logo_whose_site_was_removed_since_is_not_shown(client: Any, store: Store) -> None:
    # Stored when the site was an origin; the origin went since (`dealer config --remove`).
    stored = config(store)
    stored["theme"]["logo"] = "https://old-site.example/logo.png"
    store.execute("UPDATE dealers SET config = :c WHERE slug = :s", c=json.dumps(stored), s=SLUG)
    page = Shopper(client).start()
    assert page.status_code == 200 and "old-site.example" not in page.text
    assert img_src(page) == ["'self'", "data:"]


def test_the_consent_step_dates_the_notice_and_the_consent_keeps_its_version(
    client: Any, store: Store
) -> None:
    applicant = Shopper(client, widget="credit")
    _to_consent(applicant)
    text = unescape(applicant.page.text)
    assert "Version of November 2026" in text and "fcra-2026-11" not in text
    notice = client.get(f"/embed/{SLUG}/credit/notice")
    assert "Version of November 2026." in notice.text and "fcra-2026-11" not in notice.text
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    assert "/result" in str(applicant.page.url)
    consent = store.one(
        "SELECT text_version FROM consents WHERE draft_id = :d AND kind = 'credit_check'",
        d=applicant.draft_id,
    )
    assert consent["text_version"] == "fcra-2026-11"  # the real id, for the records


@pytest.mark.parametrize(
    ("credit", "shown"),
    [
        ({"notice_version": "acme-v3", "notice_date": "2027-02-14"}, "Version of February 2027"),
        ({"notice_version": "acme-2027-03"}, "Version of March 2027"),
        ({"notice_version": "acme-v3"}, None),  # no date anywhere: no version line at all
    ],
)
def test_a_dealers_own_notice_is_dated_from_its_date_or_its_version(
    client: Any, store: Store, credit: dict[str, str], shown: str | None
) -> None:
    stored = config(store)
    stored["credit"].update(credit)
    store.execute("UPDATE dealers SET config = :c WHERE slug = :s", c=json.dumps(stored), s=SLUG)
    applicant = Shopper(client, widget="credit")
    _to_consent(applicant)
    text = unescape(applicant.page.text)
    assert credit["notice_version"] not in text
    if shown:
        assert shown in text
    else:
        assert "Version" not in text and "Open to print" in text


def test_a_notice_date_that_is_not_a_date_is_refused(admin: Staff, store: Store) -> None:
    before = store.one("SELECT config FROM dealers WHERE slug = :s", s=SLUG)
    for typed, says in (("November", "like 2026-11-01"), ("2026-02-30", "is not a date")):
        page = change(admin, "credit", credit__notice_date=typed)
        assert page.status_code == 400 and says in unescape(page.text), unescape(page.text)[:2000]
    assert store.one("SELECT config FROM dealers WHERE slug = :s", s=SLUG) == before
    done = change(admin, "credit", credit__notice_date="2026-11-15")
    assert "saved" in unescape(done.text)
    assert config(store)["credit"]["notice_date"] == "2026-11-15"


def test_the_crm_lead_names_the_step_as_the_shopper_saw_it(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    with_crm(store)
    to_showroom(client)
    deliver(settings, mailbox.url)
    [lead] = [m for m in mailbox.messages if m["To"] == "leads@crm.example"]
    [part] = list(lead.iter_attachments())
    document = adf_document(part.get_payload(decode=True))
    comments = document.findtext("prospect/customer/comments")
    assert "Last step: Your estimated payment." in comments, comments


def test_staff_alerts_read_a_choices_label_never_its_value(
    client: Any, settings: Any, mailbox: Mailbox
) -> None:
    from test_tradein import CONTACT, _through

    trader = Shopper(client, widget="trade-in")
    _through(trader)  # condition "good", ownership "finance"
    trader.fill("contact", **CONTACT)
    deliver(settings, mailbox.url)
    [alert] = [m for m in mailbox.messages if m["To"] == "leads@demo-motors.example"]
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "Condition: Good" in text and "Ownership: I'm paying off a loan" in text, text
    assert "Ownership: finance" not in text
