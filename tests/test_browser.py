"""Issue #2 end to end, in a real headless Chromium with JavaScript turned off.

A shopper on a dealer's page (one origin) uses the payment widget in an iframe (another origin
and site), types a wrong down payment, goes back and forth, saves for later, gets the email
from a real SMTP server, opens the link on "another device" (a fresh browser context) and
finishes. The server is the real `resume serve` process with its outbox worker; nothing is
mocked.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import Mailbox, child_env, free_port, seed_demo, wait_for_serve
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Response,
    expect,
    sync_playwright,
)

from resume.web import demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
SHOPPER_EMAIL = "pat.shopper@example.com"


# --- helpers -------------------------------------------------------------------------------


@dataclass
class Server:
    """Where the running `resume serve` answers, as the widget and as the dealer's site."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def widget_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dealer_origin(self) -> str:
        # Another host name is another origin *and* another site: a true third-party iframe.
        return f"http://localhost:{self.port}"


@contextmanager
def replayed(context: BrowserContext, url: str, html: str) -> Iterator[Page]:
    """A page of `context` (a JavaScript-on profile, for axe) showing, at `url`, exactly the
    `html` a person's browser got, with every <details> opened so what is inside is checked
    too; nothing is asked of the server but the page's stylesheet."""
    page = context.new_page()
    try:
        page.route(
            lambda seen: seen == url,
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html
            ),
        )
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
        yield page
    finally:
        page.close()


def new_shopper_context(browser: Browser) -> BrowserContext:
    """A fresh, phone-sized browser profile with JavaScript off: a new device."""
    return browser.new_context(java_script_enabled=False, viewport=PHONE)


def fill(frame: Frame | Page, **fields: str) -> None:
    """Answer a step as a shopper would: click the radio whose value is given, pick from a
    list, type the rest, opening what is folded away first."""
    for name, value in fields.items():
        # A box folded under "Change" (the car the dealer's page named) is opened first.
        folded = frame.locator(f'details:not([open]):has([name="{name}"]) > summary')
        if folded.count():
            folded.click()
        radio = frame.locator(f'input[type="radio"][name="{name}"][value="{value}"]')
        if radio.count():
            radio.check()
        elif frame.locator(f'select[name="{name}"]').count():
            frame.locator(f'select[name="{name}"]').select_option(value)
        else:
            frame.locator(f'[name="{name}"]').fill(value)


def press(frame: Frame | Page, label: str) -> None:
    """Press a visible button by its label (the hidden Enter-key buttons are aria-hidden)."""
    frame.get_by_role("button", name=label, exact=True).click()


def expect_step(frame: Frame | Page, title: str) -> None:
    expect(frame.get_by_role("heading", level=2, name=title)).to_be_visible()


def expect_answers(frame: Frame | Page, **fields: str) -> None:
    """Every named field shows what was typed (radios: that choice is the checked one)."""
    for name, value in fields.items():
        # A box folded under "Change" (the car the dealer's page named) is opened first.
        folded = frame.locator(f'details:not([open]):has([name="{name}"]) > summary')
        if folded.count():
            folded.click()
        radio = frame.locator(f'input[type="radio"][name="{name}"][value="{value}"]')
        if radio.count():
            expect(radio).to_be_checked()
        else:
            expect(frame.locator(f'[name="{name}"]')).to_have_value(value)


def wait_for_mail(mailbox: Mailbox, timeout: float = 15.0) -> EmailMessage:
    """Wait for the outbox worker to deliver exactly one message to the SMTP server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.messages:
            time.sleep(0.3)  # a duplicate would arrive right behind the first
            assert len(mailbox.messages) == 1, [m["Subject"] for m in mailbox.messages]
            return mailbox.messages[0]
        time.sleep(0.1)
    pytest.fail(f"no email reached the SMTP server within {timeout} s", pytrace=False)


def round_half_up_to_cent(amount: Fraction) -> Fraction:
    return Fraction((amount * 100 + Fraction(1, 2)).__floor__(), 100)


def expected_finance_payment(
    *,
    price: int,
    doc_fee: int,
    tax_percent: str,
    down: int,
    trade_value: int,
    trade_payoff: int,
    apr_percent: str,
    months: int,
) -> str:
    """The textbook amortized payment, worked out here, apart from the app's own math."""
    taxable = Fraction(price + doc_fee - trade_value)
    tax = round_half_up_to_cent(taxable * Fraction(tax_percent) / 100)
    principal = price + doc_fee + tax - down - (trade_value - trade_payoff)
    rate = Fraction(apr_percent) / 1200
    payment = principal * rate / (1 - (1 + rate) ** -months)
    cents = round_half_up_to_cent(payment) * 100
    assert cents.denominator == 1
    return f"${cents.numerator // 100:,}.{cents.numerator % 100:02d}"


def set_cookies(responses: list[Response]) -> list[str]:
    """Every response that set a cookie, as 'URL: header'."""
    found = []
    for response in responses:
        headers = response.all_headers()  # `headers` leaves Set-Cookie out; this does not
        if "set-cookie" in headers:
            found.append(f"{response.url}: {headers['set-cookie']}")
    return found


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def server(mailbox: Mailbox, tmp_path: Path) -> Iterator[Server]:
    """The real `resume serve` process (web plus outbox worker) on a free port, seeded with
    Demo Motors by `resume demo`, mailing to the test's SMTP server; always stopped after."""
    port = free_port()
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'resume.db'}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_SMTP_URL=mailbox.url,
        RESUME_WORKER_POLL_SECONDS="0.2",
    )
    seed_demo(env, tmp_path)
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "resume", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    running = Server(port, process)
    try:
        wait_for_serve(
            process, running.widget_origin, lambda: stderr_path.read_text(errors="replace"), 20.0
        )
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (never `playwright install`)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


# --- the story -----------------------------------------------------------------------------


@pytest.mark.browser
def test_shopper_saves_a_wrong_answer_and_finishes_on_another_device(
    server: Server, mailbox: Mailbox, browser: Browser, tmp_path: Path
) -> None:
    widget_url = demo.widget_url(server.widget_origin, "payment")

    # On the dealer's own site, the calculator shows in its iframe: frame-ancestors allows
    # exactly this origin, and the frame is another site, as on a real dealer page.
    laptop = new_shopper_context(browser)
    seen: list[Response] = []
    laptop.on("response", lambda response: seen.append(response))
    host = laptop.new_page()
    host.goto(f"{server.dealer_origin}/demo")
    assert host.url == f"{server.dealer_origin}/demo"
    expect(host.locator("iframe")).to_have_attribute("src", widget_url)
    expect(host.frame_locator("iframe").get_by_role("heading", name="The vehicle")).to_be_visible()
    frame = host.main_frame.child_frames[0]
    assert frame.url == widget_url  # not chrome-error://, which a refused frame would show
    expect(frame.locator(".brand .dealer")).to_have_text("Demo Motors")
    # The page's own car is the first step's card; this shopper is looking at another.
    expect(frame.locator(".vehicle-card")).to_have_text("2025 Toyota RAV4 XLE · $34,250")

    # Step one, finance or lease, then the numbers with a down payment typed wrong ("3,0o0"),
    # then Back: Back never validates. The term is one of the dealer's loan terms, chosen.
    fill(
        frame,
        condition="new",
        year="2024",
        make="Toyota",
        model="RAV4",
        trim="XLE",
        stock_number="DM2451",
        price="32,000",
    )
    press(frame, "Continue")
    expect_step(frame, "Finance or lease")
    fill(frame, plan="finance", credit="good")
    press(frame, "Continue")
    expect_step(frame, "Your numbers")
    terms = frame.locator('input[type="radio"][name="term"]')
    expect(terms).to_have_count(5)  # Demo Motors' loan terms: 36 to 84, no lease-only 24 or 39
    numbers = {"down_payment": "3,0o0", "trade_value": "8000", "trade_payoff": "5000", "term": "60"}
    fill(frame, **numbers)
    press(frame, "Back")
    expect_step(frame, "Finance or lease")
    expect_answers(frame, plan="finance", credit="good")
    expect(frame.locator("p.error")).to_have_count(0)

    # Forward again: the wrong amount is still there as typed, with its message beside it.
    press(frame, "Continue")
    expect_step(frame, "Your numbers")
    expect_answers(frame, **numbers)
    expect(frame.locator("#e-down_payment")).to_contain_text("amount in dollars")
    expect(frame.locator("#f-down_payment")).to_have_attribute("aria-invalid", "true")

    # Save and finish later: the consent box starts unticked; the shopper ticks it.
    press(frame, "Save and finish later")
    expect_step(frame, "Save and finish later")
    consent = frame.locator('input[name="consent_followup"]')
    expect(consent).not_to_be_checked()
    fill(frame, email=SHOPPER_EMAIL)
    consent.check()
    press(frame, "Email me the link")
    expect_step(frame, "Check your inbox")
    expect(frame.get_by_role("status")).to_contain_text(SHOPPER_EMAIL)

    # The outbox worker mails the link through the real SMTP server, from the dealer.
    message = wait_for_mail(mailbox)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    assert message["To"] == SHOPPER_EMAIL
    assert message["From"].addresses[0].display_name == "Demo Motors"
    assert message["Reply-To"].addresses[0].addr_spec == "leads@demo-motors.example"
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(message["Message-ID"]))
    link_match = re.search(rf"{re.escape(server.widget_origin)}/r/\S+", text_part.get_content())
    assert link_match, text_part.get_content()
    link = link_match.group(0)
    assert link in html_part.get_content()
    # Every press was a plain form POST answered by a redirect (Post/Redirect/Get).
    assert [(r.request.method, r.status) for r in seen if r.request.method == "POST"] == [
        ("POST", 303)
    ] * 6
    laptop_cookies = laptop.cookies()
    laptop_set_cookies = set_cookies(seen)
    laptop.close()

    # Another device: no storage shared with the first. The link reopens "Your numbers"
    # with every answer in place, the wrong amount included.
    phone = new_shopper_context(browser)
    phone_seen: list[Response] = []
    phone.on("response", lambda response: phone_seen.append(response))
    page = phone.new_page()
    opened = page.goto(link)
    assert opened is not None and opened.status == 200
    assert opened.all_headers().get("referrer-policy") == "no-referrer"
    expect_step(page, "Your numbers")
    expect_answers(page, **numbers)
    expect(page.locator("#e-down_payment")).to_be_visible()

    # Fix the down payment and see the payment, worked out here independently.
    fill(page, down_payment="3000")
    press(page, "Continue")
    expect_step(page, "Your estimated payment")
    expected = expected_finance_payment(
        price=32_000,
        doc_fee=499,
        tax_percent="6.25",
        down=3_000,
        trade_value=8_000,
        trade_payoff=5_000,
        apr_percent="6.99",
        months=60,  # Demo Motors, new car, "good"
    )
    expect(page.locator("#monthly-payment")).to_have_text(expected)
    screenshot = tmp_path / "result-phone.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"phone screenshot of the result: {screenshot}")

    # No shopper state ever rode in a cookie, on either device.
    assert laptop_set_cookies == [] and laptop_cookies == []
    assert set_cookies(phone_seen) == [] and phone.cookies() == []
    phone.close()
