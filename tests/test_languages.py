"""English and Spanish (issue #11, item 6): the language a visit is served in, the switch, the
draft that remembers it for its resume link and follow-ups, the notice in each language and
the consent that records it, the dealer's choice of languages, and the widgets' Spanish copy
checked whole, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import HALFWAY, VEHICLE, Mailbox, Shopper, Store, deliver
from litestar.testing import TestClient
from test_credit import _notice_token, _to_consent

from resume import i18n
from resume.catalog import Catalog
from resume.definitions import load_widgets
from resume.errors import ConfigError
from resume.notices import FCRA_NOTICE, FCRA_NOTICE_ES
from resume.resources import data_dir
from resume.translated import translate

CATALOG = Catalog.load()
ES = CATALOG.translations["es"]
SPANISH_BROWSER = "es-MX,es;q=0.9,en-US;q=0.7"


def spanish(message: str) -> str:
    """What the code says for `message` in Spanish: the catalogue, not a copy of it."""
    with i18n.speaking("es"):
        said = i18n.gettext(message)
    assert said != message, f"no Spanish for {message!r}"
    return said


def page_lang(page: Any) -> str:
    found = re.search(r'<html lang="([a-z]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def text_of(page: Any) -> str:
    return html.unescape(page.text)


def in_spanish(client: TestClient[Any]) -> TestClient[Any]:
    client.headers["Accept-Language"] = SPANISH_BROWSER
    return client


def stored_config(store: Store) -> dict[str, Any]:
    value = store.one("SELECT config FROM dealers WHERE id = 1")["config"]
    return json.loads(value) if isinstance(value, str) else value  # PostgreSQL: JSON already


def set_config(store: Store, **changes: Any) -> None:
    stored = stored_config(store)
    store.execute(
        "UPDATE dealers SET config = :c WHERE id = 1", c=json.dumps({**stored, **changes})
    )


# The header, as browsers send it and as nobody should.
@pytest.mark.parametrize(
    ("asked", "header", "offered", "chosen"),
    [
        (None, "es-MX,es;q=0.9,en;q=0.8", ("en", "es"), "es"),
        (None, "en-US,en;q=0.9,es;q=0.8", ("en", "es"), "en"),
        (None, "fr-CA, es;q=0.5", ("en", "es"), "es"),  # the first language we have
        (None, "es;q=0.2, en;q=0.9", ("en", "es"), "en"),  # quality, not order
        (None, "es;q=0", ("en", "es"), "en"),  # q=0 means "not this"
        (None, "*", ("es", "en"), "es"),  # anything: the dealer's first
        (None, "", ("es", "en"), "es"),
        (None, "es;q=abc, ;;;, \x00, " + "x" * 5000, ("en", "es"), "en"),  # garbage asks nothing
        ("es", "en", ("en", "es"), "es"),  # asked by name beats the browser
        ("ES", "en", ("en", "es"), "es"),
        ("fr", "es", ("en", "es"), "es"),  # not one we have: the browser's
        ("es", "es", ("en",), "en"),  # not one the dealer offers
        ("<script>", None, ("en", "es"), "en"),
        ("es", None, ("xx",), "en"),  # a language we don't know is never served
    ],
)
def test_the_language_chosen(
    asked: str | None, header: str | None, offered: tuple[str, ...], chosen: str
) -> None:
    assert i18n.choose(asked, header, offered) == chosen


def test_a_spanish_browser_gets_the_widget_in_spanish(client: TestClient[Any]) -> None:
    page = in_spanish(client).get("/embed/demo-motors/payment")
    assert page.status_code == 200 and page_lang(page) == "es"
    shown = text_of(page)
    assert ES["payment"].title in shown and ES["payment"].steps[0].title in shown
    assert spanish("Continue") in shown and ">Continue<" not in shown
    # The way back to English, named in English, in the step's own form.
    assert 'value="lang:en"' in page.text and 'lang="en">English<' in page.text


def test_lang_on_the_address_beats_the_browser_and_travels_with_the_shopper(
    client: TestClient[Any], store: Store
) -> None:
    shopper = Shopper(client)
    shopper.page = client.get("/embed/demo-motors/payment?lang=es")
    assert page_lang(shopper.page) == "es"
    assert 'action="/embed/demo-motors/payment/vehicle?lang=es"' in shopper.page.text
    # Posted where the form says, as a browser posts it.
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', shopper.page.text)[1])
    saved = client.post(
        action, data={"d": shopper.token, "comment_hp": "", **VEHICLE}, follow_redirects=False
    )
    assert saved.status_code == 303 and "lang=es" in saved.headers["location"]
    shopper.open(saved.headers["location"])
    assert page_lang(shopper.page) == "es"
    assert ES["payment"].steps[1].title in text_of(shopper.page)
    assert store.one("SELECT lang FROM drafts WHERE id = :d", d=shopper.draft_id)["lang"] == "es"


@pytest.mark.parametrize("asked", ["fr", "", "e", "es-MX-very-long-tag-indeed", "<b>es</b>", "🚗"])
def test_a_language_we_dont_have_is_english_never_an_error(
    client: TestClient[Any], asked: str
) -> None:
    page = client.get("/embed/demo-motors/payment", params={"lang": asked})
    assert page.status_code == 200 and page_lang(page) == "en"


def test_the_dealer_chooses_its_languages(client: TestClient[Any], store: Store) -> None:
    set_config(store, languages=["en"])
    page = in_spanish(client).get("/embed/demo-motors/payment?lang=es")
    assert page_lang(page) == "en" and "lang:" not in page.text  # no switch to offer
    set_config(store, languages=["es", "en"])
    client.headers.pop("Accept-Language")
    client.app.state.services.forget_dealer("demo-motors")
    page = client.get("/embed/demo-motors/payment")
    assert page_lang(page) == "es"  # a browser that asks for neither: the dealer's first


def test_the_switch_saves_what_was_typed_and_says_it_again_in_spanish(
    client: TestClient[Any], store: Store
) -> None:
    shopper = Shopper(client)
    shopper.start()
    typed = {**VEHICLE, "year": "19x7"}  # one wrong answer, saved with its message
    shopper.fill("vehicle", action="lang:es", **typed)
    assert page_lang(shopper.page) == "es" and "/vehicle?" in str(shopper.page.url)
    assert shopper.value("make") == "Toyota" and shopper.value("year") == "19x7"
    stored = store.values(shopper.draft_id)
    assert stored["make"]["value"] == "Toyota" and not stored["year"]["valid"]
    # Its message was made in the language switched to, as the page shows it.
    assert stored["year"]["error"] in text_of(shopper.page)
    with i18n.speaking("en"):
        from resume.fields import clean

        english = clean(CATALOG.widgets["payment"].steps[0].field("year"), "19x7").error
    assert stored["year"]["error"] != english
    assert store.one("SELECT lang FROM drafts WHERE id = :d", d=shopper.draft_id)["lang"] == "es"
    # And back: the same answers, in English.
    shopper.fill("vehicle", action="lang:en", **typed)
    assert page_lang(shopper.page) == "en" and shopper.value("make") == "Toyota"
    assert store.one("SELECT lang FROM drafts WHERE id = :d", d=shopper.draft_id)["lang"] == "en"


@pytest.mark.parametrize(
    "action", ["lang:fr", "lang:", "lang:es:en", "lang:ES", "lang:" + "e" * 80]
)
def test_a_switch_to_a_language_not_offered_is_refused_and_nothing_is_stored(
    client: TestClient[Any], store: Store, action: str
) -> None:
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    before = store.snapshot()
    response = shopper.post("numbers", {"d": shopper.token, "comment_hp": "", "action": action})
    assert response.status_code == 400, response.text
    assert store.snapshot() == before


def test_a_spanish_shoppers_link_and_follow_ups_are_in_spanish(
    client: TestClient[Any], settings: Any, store: Store, mailbox: Mailbox
) -> None:
    shopper = Shopper(in_spanish(client))
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    draft_id = shopper.draft_id
    shopper.fill("numbers", action="save", **HALFWAY)
    assert "/save?" in str(shopper.page.url) and page_lang(shopper.page) == "es"
    shopper.fill(
        "save",
        action="send",
        email="lucia@example.com",
        consent_followup="yes",
        **{"from": "numbers"},
    )
    assert page_lang(shopper.page) == "es", shopper.page.text[:300]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    deliver(settings, mailbox.url, now=later)
    [link] = mailbox.messages
    assert str(link["Subject"]) != "" and "Your" not in str(link["Subject"])
    body = link.get_body(preferencelist=("plain",)).get_content()
    assert "/r/" in body and "unsubscribe" not in body.lower()
    unsubscribe = re.search(r"http://127\.0\.0\.1:8000(/u/[^\s>]+)", str(link["List-Unsubscribe"]))
    assert unsubscribe and unsubscribe.group(1).endswith("?lang=es")
    mailbox.messages.clear()
    first = store.rows(
        "SELECT due_at FROM outbox WHERE draft_id = :d AND kind = 'followup' ORDER BY id",
        d=draft_id,
    )[0]
    due = dt.datetime.fromisoformat(str(first["due_at"])).replace(tzinfo=dt.UTC)
    deliver(settings, mailbox.url, now=due + dt.timedelta(seconds=1))
    [touch] = mailbox.messages
    assert touch["Content-Language"] == "es" and link["Content-Language"] == "es"
    numbers = next(s for s in ES["payment"].steps if s.name == "numbers")
    vehicle = "2024 Toyota RAV4 XLE"
    expected = numbers.followups[0].subject.replace("{vehicle}", vehicle)
    assert str(touch["Subject"]) == expected.replace("{dealer}", "Demo Motors")
    text = touch.get_body(preferencelist=("plain",)).get_content()
    assert numbers.followups[0].body.split("{")[0][:40] in text
    # The link opens the draft in Spanish, whatever the browser that opens it says.
    client.headers.pop("Accept-Language")
    [path] = re.findall(r"http://127\.0\.0\.1:8000(/r/[A-Za-z0-9_.\-]+)", text)
    opened = client.get(path)
    assert opened.status_code == 200 and page_lang(opened) == "es"
    unsub = client.get(unsubscribe.group(1))
    assert unsub.status_code == 200 and page_lang(unsub) == "es"


def _agree(shopper: Shopper) -> None:
    shopper.fill("consent", action="agree", notice=_notice_token(shopper))
    assert "/result" in str(shopper.page.url), shopper.page.text[:500]


def test_a_spanish_shopper_agrees_to_the_spanish_notice_and_the_consent_says_so(
    client: TestClient[Any], store: Store
) -> None:
    assert FCRA_NOTICE_ES and "{dealer}" in FCRA_NOTICE_ES
    shopper = Shopper(in_spanish(client), widget="credit")
    _to_consent(shopper)
    shown = text_of(shopper.page)
    assert FCRA_NOTICE_ES.replace("{dealer}", "Demo Motors") in shown
    assert 'lang="es">' in shopper.page.text and "fcra-2026-11" not in shown
    assert "noviembre de 2026" in shown  # the notice's date, in Spanish
    _agree(shopper)
    consent = store.one(
        "SELECT text_version, text, language FROM consents "
        "WHERE draft_id = :d AND kind = 'credit_check'",
        d=shopper.draft_id,
    )
    assert consent["text_version"] == "fcra-2026-11-es" and consent["language"] == "es"
    assert consent["text"] == FCRA_NOTICE_ES.replace("{dealer}", "Demo Motors")
    followup = store.one(
        "SELECT language, text FROM consents WHERE draft_id = :d AND kind = 'followup'",
        d=shopper.draft_id,
    )
    assert followup["language"] == "es"
    assert followup["text"] == next(
        f.label for f in ES["credit"].steps[0].fields if f.name == "consent_followup"
    )


def test_a_dealers_own_notice_without_spanish_is_shown_in_english_saying_so(
    client: TestClient[Any], store: Store
) -> None:
    own = "By pressing I agree, you let {dealer} look at your credit file, softly."
    stored = stored_config(store)
    credit = {**stored.get("credit", {}), "notice": own, "notice_version": "own-2026-12"}
    set_config(store, credit=credit)
    shopper = Shopper(in_spanish(client), widget="credit")
    _to_consent(shopper)
    shown = text_of(shopper.page)
    assert own.replace("{dealer}", "Demo Motors") in shown
    assert spanish("This notice is only available in English.") in shown
    assert 'lang="en">' in shopper.page.text  # the notice's words are marked English
    _agree(shopper)
    consent = store.one(
        "SELECT text_version, language FROM consents WHERE draft_id = :d AND kind = 'credit_check'",
        d=shopper.draft_id,
    )
    assert consent == {"text_version": "own-2026-12", "language": "en"}
    # With its Spanish, Spanish shoppers read that, under a version of its own.
    set_config(store, credit={**credit, "notice_es": "Al pulsar Acepto, {dealer} puede mirar."})
    client.app.state.services.forget_dealer("demo-motors")
    second = Shopper(client, widget="credit")
    _to_consent(second)
    assert "Al pulsar Acepto, Demo Motors puede mirar." in text_of(second.page)
    _agree(second)
    assert store.one(
        "SELECT text_version, language FROM consents WHERE draft_id = :d AND kind = 'credit_check'",
        d=second.draft_id,
    ) == {"text_version": "own-2026-12-es", "language": "es"}


def test_the_default_notice_has_its_spanish_and_an_unknown_language_is_english() -> None:
    from resume.notices import shown

    assert shown(FCRA_NOTICE, "", "fcra-2026-11", "es").text == FCRA_NOTICE_ES
    assert shown(FCRA_NOTICE, "", "fcra-2026-11", "en").version == "fcra-2026-11"
    long = "v" * 32
    assert len(shown(FCRA_NOTICE, "", long, "es").version) == 32  # fits its column


# The widgets' Spanish, whole: every text, the same placeholders, nothing left over.
def test_every_widget_is_translated_whole() -> None:
    for slug, widget in CATALOG.widgets.items():
        spanish_widget = ES[slug]
        english_texts, spanish_texts = [], []
        for one, other in zip(widget.steps, spanish_widget.steps, strict=True):
            assert len(one.followups) == len(other.followups) > 0
            assert len(one.talk) == len(other.talk) > 0
            english_texts += [
                one.title,
                *(f.body for f in one.followups),
                *(t.say for t in one.talk),
            ]
            spanish_texts += [
                other.title,
                *(f.body for f in other.followups),
                *(t.say for t in other.talk),
            ]
        same = [e for e, s in zip(english_texts, spanish_texts, strict=True) if e == s]
        assert same == [], f"{slug}: left in English: {same[:3]}"


def _load_with(tmp_path: Path, change: Any) -> None:
    folder = data_dir() / "widgets"
    widgets = load_widgets(folder)
    import tomllib

    data = tomllib.loads((folder / "es" / "payment.toml").read_text(encoding="utf-8"))
    change(data)
    translate(widgets["payment"], data, "es/payment.toml")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d["steps"]["vehicle"]["fields"]["make"].pop("label"), "needs its translation"),
        (lambda d: d["steps"]["vehicle"].update(colour="rojo"), "nothing in English for 'colour'"),
        (
            lambda d: d["steps"].update(wheels={"title": "Ruedas"}),
            "nothing in English for 'wheels'",
        ),
        (lambda d: d["steps"]["numbers"]["followups"].pop(), "needs 5 entries"),
        (
            lambda d: d["steps"]["numbers"]["followups"][0].update(subject="Su auto"),
            "same placeholders",
        ),
        (
            lambda d: d["steps"]["vehicle"]["fields"]["condition"]["choices"].update(old="Viejo"),
            "nothing in English for 'old'",
        ),
        (lambda d: d["steps"]["vehicle"].update(title=""), "needs its translation"),
        (
            lambda d: d["steps"]["vehicle"]["fields"]["make"].update(label=3),
            "needs its translation",
        ),
    ],
)
def test_a_broken_translation_stops_start_up_naming_where(
    tmp_path: Path, change: Any, said: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(said)) as raised:
        _load_with(tmp_path, change)
    assert "es/payment.toml" in str(raised.value)


def test_staff_read_english_and_are_told_the_shopper_chose_spanish(
    client: TestClient[Any], settings: Any, store: Store, mailbox: Mailbox
) -> None:
    from conftest import NUMBERS, Staff
    from lxml import etree
    from test_alerts import adf_document, with_crm

    with_crm(store, adf_as="body")
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    shopper = Shopper(client)
    client.headers["Accept-Language"] = SPANISH_BROWSER  # the shopper's browser, not the rep's
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    token, draft_id = shopper.token, shopper.draft_id
    shopper.fill("result", action="save")
    shopper.fill("save", action="send", **{"from": "result", "email": "lucia@example.com"})
    shopper.post("result", {"d": token, "comment_hp": "", "action": "showroom"})
    client.headers.pop("Accept-Language")
    deliver(settings, mailbox.url)
    [alert] = [m for m in mailbox.messages if m["To"] == "leads@demo-motors.example"]
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "Language: Spanish" in text and "wants to finish at the dealership" in alert["Subject"]
    [crm] = [m for m in mailbox.messages if m["To"] == "leads@crm.example"]
    document = adf_document(crm.get_body(preferencelist=("plain",)).get_content().encode())
    comments = " ".join(document.xpath("//customer/comments/text()"))
    assert "Language: Spanish." in comments, etree.tostring(document)[:400]
    lead = store.one("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)["lead_id"]
    page = rep.get(f"/dashboard/leads/{lead}")
    assert page.status_code == 200 and page_lang(page) == "en"
    shown = text_of(page)
    assert "Used the widget in Spanish" in shown
    english = re.search(r'<p class="talk" id="talk">(.*?)</p>', page.text, re.S)
    theirs = re.search(r'<p class="talk" id="talk-theirs" lang="es">(.*?)</p>', page.text, re.S)
    assert english and theirs and english.group(1) != theirs.group(1)
    result = next(s for s in ES["payment"].steps if s.name == "result")
    opening = result.talk[0].say.split("{name}")[-1].split("{")[0].strip()[:25]
    assert opening in html.unescape(theirs.group(1))
    # The figures in it are said in Spanish too, not only the words around them.
    assert "a finance estimate" in html.unescape(english.group(1))
    assert "(financiamiento)" in html.unescape(theirs.group(1))


def test_an_admin_chooses_the_languages_and_a_made_up_one_is_refused(
    client: TestClient[Any], settings: Any, store: Store
) -> None:
    from conftest import Staff
    from test_dashboard_settings import audited, change, config

    admin = Staff.active(client, settings, "ada.admin@demo-motors.example", "admin")
    page = change(admin, "details", languages="es,en")
    assert page.status_code == 200, page.text[:1000]
    assert config(store)["languages"] == ["es", "en"]

    assert audited(store)[-1]["after"] == {"languages": ["es", "en"]}
    widget = client.get("/embed/demo-motors/payment")  # no Accept-Language: the first
    assert page_lang(widget) == "es"
    before = store.one("SELECT config FROM dealers WHERE id = 1")
    for typed in ("fr", "en,en", "", "en,es,fr", "<b>"):
        refused = change(admin, "details", languages=typed)
        assert refused.status_code == 400, (typed, refused.text[:500])
        assert "choose one of the options" in html.unescape(refused.text)
    assert store.one("SELECT config FROM dealers WHERE id = 1") == before
    # The Spanish of the follow-up box and of the dealer's notice are set beside the English.
    assert (
        change(admin, "consent", followup_consent_es="Envíenme recordatorios.").status_code == 200
    )
    assert config(store)["followup_consent_es"] == "Envíenme recordatorios."
    refused = change(admin, "credit", credit__notice_es="Al pulsar Acepto, {dealer} puede mirar.")
    assert refused.status_code == 400 and "need a new version" in html.unescape(refused.text)


def test_a_shopper_who_switched_keeps_the_language_through_save_for_later(
    client: TestClient[Any], settings: Any, store: Store, mailbox: Mailbox
) -> None:
    shopper = Shopper(client)  # an English browser
    shopper.start()
    shopper.fill("vehicle", action="lang:es", **VEHICLE)
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", action="save", **HALFWAY)
    assert page_lang(shopper.page) == "es"
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', shopper.page.text)[1])
    assert action.endswith("/save?lang=es")
    sent = client.post(
        action,
        data={
            "d": shopper.token,
            "comment_hp": "",
            "action": "send",
            "from": "numbers",
            "email": "ana@example.com",
        },
        follow_redirects=True,
    )
    assert sent.status_code == 200 and page_lang(sent) == "es"
    assert store.one("SELECT lang FROM drafts WHERE id = :d", d=shopper.draft_id)["lang"] == "es"
    deliver(settings, mailbox.url)
    [link] = mailbox.messages
    assert link["Content-Language"] == "es"
