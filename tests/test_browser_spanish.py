"""Spanish in a real browser (issue #11, item 6): headless Chromium with JavaScript off, the
widgets inside the demo dealer page's cross-origin iframe, the real `resume serve` process.

A shopper whose browser speaks Spanish fills the credit widget, saves on a middle step, gets
the resume link in Spanish from a real SMTP server and, once the worker's clock has moved on,
the Spanish follow-up written for that step; the link opened on an English browser still
speaks Spanish, on the step they left, and they agree to the Spanish notice, which the
database records with its language and version. An English shopper switches a step to
Spanish and back, keeping what was typed. And every page of the three widgets, in both
languages, passes axe-core at 320 and 1280 px, has no script, does not scroll sideways, and
(in Spanish) shows no English left behind; the Spanish pages are photographed at 390 and
1280 px to /tmp/shots-spanish/ to be looked at.

The expected words come from the catalogues the code reads (the widgets' es TOML, the .po
files through resume.i18n), never copied here, so a changed translation does not break the
test and a missing one does.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import test_browser
from axe_playwright_python.sync_playwright import Axe
from babel.messages.pofile import read_po
from conftest import Mailbox, deliver, make_settings
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Response, expect
from test_browser import (
    PHONE,
    Server,
    expect_answers,
    expect_step,
    fill,
    replayed,
    wait_for_mail,
)
from test_browser_fit import CREDIT, PAYMENT_FINANCE, TRADE_IN
from test_browser_widgets import _framed
from test_credit import ABOUT, ADDRESS, INCOME

from resume import i18n
from resume.catalog import Catalog
from resume.definitions import Widget
from resume.notices import FCRA_NOTICE_ES
from resume.resources import data_dir

pytestmark = pytest.mark.browser

# The same real `resume serve` and Chromium as the payment story.
server = test_browser.server
browser = test_browser.browser

CATALOG = Catalog.load()
WIDGETS = {"en": CATALOG.widgets, "es": CATALOG.translations["es"]}
DEALER = "Demo Motors"
SHOTS = Path("/tmp/shots-spanish")  # looked at by a person, so outside the repository
AXE_WIDTHS = (320, 1280)  # the one-column and the two-column layouts
NARROW = (320, 390)  # no sideways scrolling at these widths
SHOT_WIDTHS = (390, 1280)
LOCALES = {"en": "en-US", "es": "es-US"}  # what Chromium then sends as Accept-Language
# The walks of the fit test, by the English step titles; each widget's own (at the same
# place in its steps) is what a page in another language is expected to show.
WALKS = {"payment": PAYMENT_FINANCE, "trade-in": TRADE_IN, "credit": CREDIT}


def say(message: str, lang: str = "es", **values: Any) -> str:
    """What the code says for `message` in `lang`, read from the catalogue (not a copy)."""
    with i18n.speaking(lang):
        said = i18n.gettext(message)
    if lang != i18n.DEFAULT:
        assert said != message, f"no Spanish for {message!r}"
    return said % values if values else said


def title_in(lang: str, slug: str, english_title: str) -> str:
    """The step titled `english_title` in English, as the widget titles it in `lang`."""
    english = WIDGETS["en"][slug].steps
    index = next(i for i, step in enumerate(english) if step.title == english_title)
    return WIDGETS[lang][slug].steps[index].title


def step_named(widget: Widget, name: str) -> Any:
    return next(step for step in widget.steps if step.name == name)


def po_messages() -> list[Any]:
    """Every message of the Spanish .po files (the pages', the code's, the web layer's)."""
    found: list[Any] = []
    for path in sorted((data_dir() / "locale" / "es" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            found += list(read_po(po, locale="es"))
    return found


def english_left_behind() -> list[str]:
    """Pieces of English a Spanish page must not show: every translated UI message of the
    .po files and every text of the English widgets that has Spanish of its own, cut at
    placeholders and markup, keeping the pieces long enough to be sentences or labels."""
    pieces: set[str] = set()
    for message in po_messages():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pieces.update(p for one in ids if one not in strings for p in _cut(one))
    for slug, english in WIDGETS["en"].items():
        spanish = WIDGETS["es"][slug]
        texts = [(english.title, spanish.title), (english.intro, spanish.intro)]
        for one, other in zip(english.steps, spanish.steps, strict=True):
            texts += [(one.title, other.title), (one.intro, other.intro)]
            for a, b in zip(one.fields, other.fields, strict=True):
                texts += [(a.label, b.label), (a.hint, b.hint)]
                texts += [(c.label, d.label) for c, d in zip(a.choices, b.choices, strict=True)]
                texts += [(c.hint, d.hint) for c, d in zip(a.choices, b.choices, strict=True)]
        pieces.update(p for e, s in texts if e and e != s for p in _cut(e))
    return sorted(pieces, key=len, reverse=True)


def _cut(message: str) -> list[str]:
    parts = re.split(r"%\(\w+\)[sd]|%%|\{\{?[^}]*\}?\}|<[^>]*>|\n", message)
    return [p.strip(" .,:;\"'") for p in parts if len(p.strip()) >= 12 and " " in p.strip()]


ENGLISH = english_left_behind()
# The short ones ("Continue", "Back"), caught when they are the whole text of an element.
WORDS = {
    message.id
    for message in po_messages()
    if message.id and isinstance(message.id, str) and message.string not in ("", message.id)
}


def english_in(text: str, leaves: list[str]) -> list[str]:
    """The English of ENGLISH and WORDS in a page's text and its elements' own texts."""
    left = sorted({p for p in ENGLISH if p in text} | {w for w in leaves if w in WORDS})
    return [p for p in left if not any(p != q and p in q for q in left)]


def rows(database: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """What the server stored, read straight from its SQLite file (the second witness)."""
    with closing(sqlite3.connect(database, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def shopper(browser: Browser, lang: str) -> tuple[BrowserContext, list[Response]]:
    """A fresh phone-sized profile with JavaScript off whose browser speaks `lang`, and the
    documents (pages and frames) it is sent, kept so the checks see what it got."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale=LOCALES[lang])
    documents: list[Response] = []

    def seen(response: Response) -> None:
        if response.request.resource_type == "document" and response.status < 300:
            documents.append(response)

    context.on("response", seen)
    return context, documents


def html_of(documents: list[Response], where: Frame | Page) -> str:
    """The HTML of the page `where` shows now, exactly as the server sent it."""
    url = where.url.split("#")[0]
    found = [r for r in documents if r.url == url]
    assert found, f"no document seen for {url}"
    return found[-1].text()


def worker_at(settings: Any, smtp_url: str, now: dt.datetime) -> int:
    """Run the outbox worker in-process with its clock at `now`, on a thread of its own:
    Playwright's sync API keeps an event loop running on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(deliver, settings, smtp_url, now).result()


def shopper_mail(mailbox: Mailbox, to: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages if m["To"] == to]


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


# --- the inspector -------------------------------------------------------------------------


@dataclass
class Inspector:
    """Checks each page the shoppers saw, as the dashboard's does: axe-core in its own profile
    with JavaScript on and CSP bypassed, on exactly the HTML the shopper's browser got served
    at the same URL; sideways scrolling; English left on a Spanish page; and screenshots of
    the Spanish pages."""

    browser: Browser
    axe: Axe = field(default_factory=Axe)
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(
            java_script_enabled=True, bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        SHOTS.mkdir(exist_ok=True)

    def check(
        self,
        where: Frame | Page,
        documents: list[Response],
        lang: str,
        name: str,
        answers: dict[str, str] | None = None,
    ) -> None:
        """Everything a widget page must be; `answers` are typed into it first, as the shopper
        would, so the step is checked with valid answers in place."""
        name = f"{lang}-{name}"
        self.checked.append(name)
        html = html_of(documents, where)
        assert "<script" not in html.lower(), f"{name}: a script in the page"
        found = re.search(r'<html lang="([a-z]+)"', html)
        if not found or found.group(1) != lang:
            self.problems.append(f"{name}: <html lang> is {found and found.group(1)!r}")
        with self._replay(where.url.split("#")[0], html) as page:
            if answers:
                fill(page, **answers)
            for width in AXE_WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                result = self.axe.run(page).response
                assert result["passes"], f"{name}: axe ran no rule at all"
                for v in result["violations"]:
                    targets = "; ".join(" ".join(node["target"]) for node in v["nodes"])
                    self.problems.append(
                        f"{name} at {width} px: axe {v['id']} ({v['impact']}): {targets}"
                    )
            self._measure(page, name)
            if lang == "es":
                self._english(page, name)
                for width in SHOT_WIDTHS:
                    page.set_viewport_size({"width": width, "height": 844 if width < 900 else 900})
                    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    @contextmanager
    def _replay(self, url: str, html: str) -> Iterator[Page]:
        with replayed(self.context, url, html) as page:
            yield page

    def _measure(self, page: Page, name: str) -> None:
        for width in NARROW:
            page.set_viewport_size({"width": width, "height": 800})
            scroll, client, wide, spilled = page.evaluate(
                """() => {
                  const root = document.documentElement, limit = root.clientWidth;
                  const wide = [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                    .slice(0, 5).map(e => e.outerHTML.slice(0, 80));
                  // Words wider than the box they are in (a long Spanish word in a cell or
                  // a button) run over what is next to them without scrolling the page.
                  const spilled = [...document.querySelectorAll(
                      'th, td, button, label, legend, h1, h2, h3, a, summary, p, li')]
                    .filter(e => !e.closest('.visually-hidden') && e.clientWidth > 1 &&
                                 e.scrollWidth > e.clientWidth + 1)
                    .slice(0, 5)
                    .map(e => `${e.tagName.toLowerCase()} "${e.textContent.trim().slice(0, 40)}"`
                              + ` ${e.scrollWidth} > ${e.clientWidth}`);
                  return [root.scrollWidth, limit, wide, spilled];
                }"""
            )
            if scroll > client:
                self.problems.append(
                    f"{name} at {width} px: scrolls sideways ({scroll} > {client}): {wide}"
                )
            if spilled:
                self.problems.append(f"{name} at {width} px: text wider than its box: {spilled}")

    def _english(self, page: Page, name: str) -> None:
        # Words marked lang="en" (the switch back to English, a notice only in English) are
        # meant to be English; everything else on a Spanish page is read as Spanish.
        text, leaves = page.evaluate(
            """() => { const body = document.body.cloneNode(true);
                       body.querySelectorAll('[lang="en"]').forEach(e => e.remove());
                       const leaves = [...body.querySelectorAll('*')]
                         .filter(e => !e.children.length)
                         .map(e => e.textContent.trim());
                       return [body.textContent.replace(/\\s+/g, ' '), leaves]; }"""
        )
        left = english_in(f"{page.title()} {text}", leaves)
        if left:
            self.problems.append(f"{name}: English left: {left}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def inspector(browser: Browser) -> Iterator[Inspector]:
    """The second profile the checks run in, closed after the test."""
    made = Inspector(browser)
    try:
        yield made
    finally:
        made.close()


CREDIT_STEPS = ("about", "address", "home", "income", "credit")


def _press(where: Frame | Page, label: str) -> None:
    where.get_by_role("button", name=label, exact=True).click()


# --- 1 and 2: a Spanish shopper's credit application ---------------------------------------


def test_a_spanish_shopper_saves_gets_spanish_mail_and_finishes_on_an_english_browser(
    server: Server, mailbox: Mailbox, browser: Browser, tmp_path: Path
) -> None:
    es = WIDGETS["es"]["credit"]
    about, address, home, income, credit = (step_named(es, n) for n in CREDIT_STEPS)
    laptop, documents = shopper(browser, "es")
    frame = _framed(laptop, server, "credit", about.title)
    assert re.search(r'<html lang="es"', html_of(documents, frame))
    expect(frame.locator("html")).to_have_attribute("lang", "es")
    expect(frame.get_by_role("button", name=say("Continue"), exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name="English", exact=True)).to_be_visible()
    for one in about.fields:
        expect(frame.get_by_label(one.label).first).to_be_visible()

    typed = {k: v for k, v in ABOUT.items() if k != "consent_followup"}
    fill(frame, **typed)
    frame.locator('input[name="consent_followup"]').check()
    _press(frame, say("Continue"))
    expect_step(frame, address.title)
    where = {k: ADDRESS[k] for k in ("street", "city", "state", "zip")}
    fill(frame, **where)
    _press(frame, say("Continue"))
    expect_step(frame, home.title)
    at_home = {k: ADDRESS[k] for k in ("years_at_address", "housing", "housing_payment")}
    fill(frame, **at_home)

    # Saved on the middle step; the address typed on the first step is the one offered.
    _press(frame, say("Save and finish later"))
    expect_step(frame, say("Save and finish later"))
    expect(frame.locator('[name="email"]')).to_have_value(ABOUT["email"])
    consent_box = frame.locator('input[name="consent_followup"]')
    if consent_box.count():
        consent_box.check()
    _press(frame, say("Email me the link"))
    expect_step(frame, say("Check your inbox"))
    expect(frame.get_by_role("status")).to_contain_text(ABOUT["email"])

    # The resume link, from the real SMTP server, in Spanish.
    message = wait_for_mail(mailbox)
    assert message["To"] == ABOUT["email"]
    assert str(message["Subject"]) == say(
        "Pick up where you left off with %(dealer)s", dealer=DEALER
    )
    text, html = text_part(message), html_part(message)
    assert say("Pick up exactly where you left off, on any device:") in text
    # The step they saved on and the widget, named in Spanish.
    saved_on = 'You saved your answers on "%(step)s" in %(widget)s.'
    assert say(saved_on, step=home.title, widget=es.title.lower()) in " ".join(text.split())
    assert say("Reply to this email to reach our sales team.") in text
    assert '<html lang="es">' in html and say("Continue where I left off") in html
    if message["Content-Language"] is not None:
        assert message["Content-Language"] == "es"
    found = re.search(rf"{re.escape(server.widget_origin)}/r/\S+", text)
    assert found, text
    link = found.group(0)
    assert "Evergreen" not in link and "1988" not in link
    laptop.close()
    mailbox.messages.clear()

    # The shopper leaves. Half an hour on (the worker's clock moved, not the test's), the
    # exit is found and the touches queued; at the first touch's time, it goes out in Spanish.
    database = tmp_path / "resume.db"
    settings = make_settings(
        f"sqlite+aiosqlite:///{database}", tmp_path, base_url=server.widget_origin
    )
    worker_at(settings, mailbox.url, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31))
    [draft] = rows(database, "SELECT id, lang, step, first_exit_step FROM drafts WHERE NOT demo")
    assert draft["lang"] == "es" and draft["first_exit_step"] == "home", draft
    touches = rows(
        database,
        "SELECT due_at FROM outbox WHERE draft_id = ? AND kind = 'followup' ORDER BY due_at",
        draft["id"],
    )
    assert touches, "no follow-up queued for the exit"
    due = dt.datetime.fromisoformat(str(touches[0]["due_at"])).replace(tzinfo=dt.UTC)
    mailbox.messages.clear()
    worker_at(settings, mailbox.url, due + dt.timedelta(seconds=1))
    [touch] = shopper_mail(mailbox, ABOUT["email"])
    copy = home.followups[0]
    fills = {"{vehicle}": say("next car"), "{dealer}": DEALER, "{step}": home.title}
    subject, body = copy.subject, copy.body
    for key, value in fills.items():
        subject, body = subject.replace(key, value), body.replace(key, value)
    assert str(touch["Subject"]) == subject
    assert body in " ".join(text_part(touch).split())
    assert '<html lang="es">' in html_part(touch)

    # Another device, whose browser is English: the draft's language wins, on its step.
    phone, phone_documents = shopper(browser, "en")
    page = phone.new_page()
    opened = page.goto(link)
    assert opened is not None and opened.status == 200
    expect_step(page, home.title)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect_answers(page, **at_home)
    _press(page, say("Continue"))
    expect_step(page, income.title)
    fill(
        page, **{k: INCOME[k] for k in ("employment", "employer", "years_at_job", "monthly_income")}
    )
    _press(page, say("Continue"))
    expect_step(page, credit.title)
    fill(page, credit_band=INCOME["credit_band"])
    _press(page, say("Continue"))

    # The Spanish notice with the dealer's name, "I agree" in Spanish right under it.
    consent = step_named(es, "consent")
    expect_step(page, consent.title)
    notice = FCRA_NOTICE_ES.replace("{dealer}", DEALER)
    expect(page.locator("#fcra-notice")).to_have_text(notice)
    expect(page.locator("#fcra-notice")).to_have_attribute("lang", "es")
    agree = page.get_by_role("button", name=say("I agree"), exact=True)
    expect(agree).to_be_visible()
    agree.click()

    result = step_named(es, "result")
    expect_step(page, result.title)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    for words in (
        "An estimate, not an offer of credit.",
        "Estimated APR",
        "See payments with these figures",
    ):
        expect(page.get_by_text(say(words), exact=False).first).to_be_visible()
    expect(page.locator("#apr-range")).to_contain_text("6.99")
    shown = page.locator("main").inner_text()
    assert "Your estimate" not in shown and "Estimated APR" not in shown, shown

    # What the database says: the consent in Spanish, its own version, the draft's language.
    stored = rows(
        database,
        "SELECT language, text_version, text FROM consents WHERE draft_id = ? "
        "AND kind = 'credit_check'",
        draft["id"],
    )
    assert stored == [{"language": "es", "text_version": "fcra-2026-11-es", "text": notice}]
    followup = rows(
        database,
        "SELECT language FROM consents WHERE draft_id = ? AND kind = 'followup'",
        draft["id"],
    )
    assert followup and {row["language"] for row in followup} == {"es"}
    assert rows(database, "SELECT lang FROM drafts WHERE id = ?", draft["id"]) == [{"lang": "es"}]
    assert phone.cookies() == []
    phone.close()


# --- 3: the switch -------------------------------------------------------------------------


def test_an_english_shopper_switches_a_step_to_spanish_and_back_keeping_the_answer(
    server: Server, browser: Browser
) -> None:
    english, spanish = WIDGETS["en"]["payment"], WIDGETS["es"]["payment"]
    context, _ = shopper(browser, "en")
    frame = _framed(context, server, "payment", english.steps[0].title)
    expect(frame.locator("html")).to_have_attribute("lang", "en")
    typed = {"condition": "new", "year": "2024", "make": "Toyota", "model": "RAV4"}
    fill(frame, **typed)
    switch = frame.get_by_role("button", name=i18n.LANGUAGES["es"], exact=True)
    expect(switch).to_have_attribute("lang", "es")
    switch.click()
    expect_step(frame, spanish.steps[0].title)
    expect(frame.locator("html")).to_have_attribute("lang", "es")
    expect_answers(frame, **typed)
    expect(frame.get_by_role("button", name=say("Continue"), exact=True)).to_be_visible()
    expect(frame.locator("p.error")).to_have_count(0)  # a switch is not a Continue

    frame.get_by_role("button", name=i18n.LANGUAGES["en"], exact=True).click()
    expect_step(frame, english.steps[0].title)
    expect(frame.locator("html")).to_have_attribute("lang", "en")
    expect_answers(frame, **typed)
    expect(frame.get_by_role("button", name="Continue", exact=True)).to_be_visible()
    context.close()


# --- 4 and 5: every page, both languages ---------------------------------------------------


def test_every_widget_page_in_both_languages_passes_axe_and_has_no_english_left(
    server: Server, browser: Browser, inspector: Inspector
) -> None:
    for lang in ("en", "es"):
        for slug, walk in WALKS.items():
            _walk(server, browser, inspector, lang, slug, walk)
    print(f"\nchecked {len(inspector.checked)} pages: {', '.join(inspector.checked)}")
    assert not inspector.problems, "\n".join(inspector.problems)


def _walk(
    server: Server,
    browser: Browser,
    inspector: Inspector,
    lang: str,
    slug: str,
    walk: list[tuple[str, dict[str, str]]],
) -> None:
    """Walk `slug` in `lang` with the fit test's answers: each step checked as shown (with its
    answers typed) and with its errors (Continue pressed with nothing answered); on the
    second step, save for later, first with no address, then sent; the notice, the result."""
    context, documents = shopper(browser, lang)
    try:
        context.set_default_timeout(10_000)
        title = title_in(lang, slug, walk[0][0])
        frame = _framed(context, server, slug, title)
        words = {m: say(m, lang) for m in _BUTTONS}

        def check(name: str, answers: dict[str, str] | None = None) -> None:
            inspector.check(frame, documents, lang, f"{slug}-{name}", answers)

        for index, (english_title, answers) in enumerate(walk):
            title = title_in(lang, slug, english_title)
            step = re.sub(r"[^a-z]+", "-", english_title.lower()).strip("-")
            expect_step(frame, title)
            if index == 1:
                _save_for_later(frame, documents, inspector, lang, slug, words)
                expect_step(frame, title)
            check(step, answers)
            go_on = frame.get_by_role("button", name=words["Continue"], exact=True)
            if answers and go_on.count():
                _submit(frame, go_on)
                if frame.locator(".error-summary").count():
                    expect_step(frame, title)
                    check(f"{step}-errors")
                else:  # nothing on it is required: come back to answer it
                    _submit(frame, frame.get_by_role("button", name=words["Back"], exact=True))
                    expect_step(frame, title)
                fill(frame, **answers)
                _submit(frame, go_on)
            elif frame.locator("#agree").count():
                # The notice, printable, as "Open to print" opens it.
                href = frame.get_by_role("link", name=words["Open to print"]).get_attribute("href")
                assert href
                notice = context.new_page()
                notice.goto(f"{server.widget_origin}{href}" if href.startswith("/") else href)
                inspector.check(notice, documents, lang, f"{slug}-notice")
                notice.close()
                _submit(frame, frame.locator("#agree"))
    finally:
        context.close()


_BUTTONS = (
    "Continue",
    "Back",
    "Save and finish later",
    "Email me the link",
    "Keep going now",
    "Open to print",
)


def _save_for_later(
    frame: Frame,
    documents: list[Response],
    inspector: Inspector,
    lang: str,
    slug: str,
    words: dict[str, str],
) -> None:
    def check(name: str) -> None:
        inspector.check(frame, documents, lang, f"{slug}-{name}")

    _submit(frame, frame.get_by_role("button", name=words["Save and finish later"], exact=True))
    expect_step(frame, words["Save and finish later"])
    check("save")
    fill(frame, email="")
    _submit(frame, frame.get_by_role("button", name=words["Email me the link"], exact=True))
    expect_step(frame, words["Save and finish later"])
    expect(frame.locator(".error-summary")).to_have_count(1)
    check("save-errors")
    fill(frame, email=f"{lang}.{slug}@example.com")
    _submit(frame, frame.get_by_role("button", name=words["Email me the link"], exact=True))
    expect_step(frame, say("Check your inbox", lang))
    check("saved")
    _submit(frame, frame.get_by_role("link", name=words["Keep going now"]))


def _submit(frame: Frame, control: Any) -> None:
    """Press a button (or follow a link) of the frame and wait for the page it leads to (the
    frame is marked first: the new page is the one without the mark)."""
    frame.evaluate("document.documentElement.dataset.seen = '1'")
    control.click()
    expect(frame.locator("html[data-seen]")).to_have_count(0)
    frame.wait_for_load_state()
