"""The vehicle on the dealer's page, end to end in headless Chromium with JavaScript off
(issue #11, item 1): the dealer's own vehicle page (another origin, another site) frames the
payment widget with the car on the iframe's URL, as the README's template snippet does. The
first step is the car's card, with its photo from the dealer's site; the shopper goes on to
the result, which shows that car, and asks to finish at the dealership: the staff alert,
sent by the worker through a real SMTP server, names the car. A shopper who opens "Change"
and picks another car sees it on the result and in the alert, and the lead's page in the
dashboard shows both: what they chose, and what the page named.

tests/test_page_vehicle.py checks the parameters over HTTP (wrong, oversized, hostile); this
checks what a person sees in a real browser, in a real frame, and what the real mail says.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import test_browser
from conftest import Mailbox, child_env, free_port, seed_demo, wait_for_serve
from playwright.sync_api import Browser, Frame, expect
from test_browser import expect_step, fill, press
from test_browser_dashboard import Server, signed_in
from test_logo import png

from resume import embed

pytestmark = pytest.mark.browser
browser = test_browser.browser

RAV4 = {
    "vin": "2T3P1RFV8RW000000",
    "stock": "T1234",
    "year": "2025",
    "make": "Toyota",
    "model": "RAV4",
    "trim": "XLE",
    "price": "34250",
    "condition": "new",
}
LEADS = "leads@demo-motors.example"
SHOPPER = "rosa.shopper@example.com"
PHOTO = png(8, 6)


class Site:
    """The dealer's own site: /rav4 is its vehicle page holding the widget's snippet with the
    car on the URL, and /rav4.png the car's photo."""

    def __init__(self, widget_origin: str) -> None:
        self.port = free_port()
        self.origin = f"http://localhost:{self.port}"
        query = urlencode({**RAV4, "image": f"{self.origin}/rav4.png"})
        src = f"{embed.url(widget_origin, 'demo-motors', 'payment')}?{query}"
        page = (
            "<!doctype html><html lang=en><meta name=viewport content='width=device-width, "
            "initial-scale=1'><title>2025 Toyota RAV4 XLE · Demo Motors</title><body "
            "style='margin:0'><h1>2025 Toyota RAV4 XLE, $34,250</h1>"
            f"{embed.iframe(src, 'Payment calculator')}</body></html>"
        ).encode()
        files = {"/rav4": ("text/html; charset=utf-8", page), "/rav4.png": ("image/png", PHOTO)}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(mailbox: Mailbox, tmp_path: Path) -> Iterator[tuple[Server, Site]]:
    """`resume serve` (web and worker) mailing the test's SMTP server, Demo Motors seeded by
    `resume demo` with the dealer's own site added as an origin, and that site running."""
    port = free_port()
    database = tmp_path / "resume.db"
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_SMTP_URL=mailbox.url,
        RESUME_WORKER_POLL_SECONDS="0.2",
    )
    seed_demo(env, tmp_path)
    site = Site(f"http://127.0.0.1:{port}")
    added = subprocess.run(
        [sys.executable, "-m", "resume", "dealer", "config", "demo-motors"]
        + ["--add-origin", site.origin],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "resume", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    running = Server(port, process, env, tmp_path, database)
    try:
        wait_for_serve(
            process, running.origin, lambda: stderr_path.read_text(errors="replace"), 20.0
        )
        yield running, site
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        site.close()


def mail_to(mailbox: Mailbox, address: str, timeout: float = 15.0) -> EmailMessage:
    """The one message the worker sent to `address`, once it arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mailbox.messages if m["To"] == address]
        if found:
            assert len(found) == 1, [m["Subject"] for m in found]
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address}: {[m['Subject'] for m in mailbox.messages]}")


def on_the_vehicle_page(browser: Browser, site: Site, server: Server, width: int) -> Frame:
    """The dealer's vehicle page in a phone's browser, the widget framed on it."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 844}
    )
    context.set_default_timeout(10_000)
    host = context.new_page()
    host.goto(f"{site.origin}/rav4")
    expect(host.frame_locator("iframe").get_by_role("heading", name="The vehicle")).to_be_visible()
    frame = host.main_frame.child_frames[0]
    assert frame.url.startswith(f"{server.origin}/embed/demo-motors/payment?")
    return frame


def to_the_result(frame: Frame) -> None:
    """Finance or lease, then the numbers, then the estimate."""
    expect_step(frame, "Finance or lease")
    fill(frame, plan="finance", credit="good")
    press(frame, "Continue")
    expect_step(frame, "Your numbers")
    fill(frame, down_payment="3,000", term="60")
    press(frame, "Continue")
    expect_step(frame, "Your estimated payment")


def to_the_showroom(frame: Frame) -> None:
    """Email the estimate to themselves, come back, and ask to finish at the dealership."""
    press(frame, "Email me this and a link back")
    fill(frame, email=SHOPPER)
    frame.locator('input[name="consent_followup"]').check()
    press(frame, "Email me the link")
    expect_step(frame, "Check your inbox")
    frame.get_by_role("link", name="Keep going now").click()
    expect_step(frame, "Your estimated payment")
    press(frame, "Finish at the dealership")
    expect(frame.get_by_role("heading", level=2).first).not_to_have_text("Your estimated payment")


def test_the_car_on_the_page_reaches_the_result_and_the_staff_alert(
    browser: Browser, served: tuple[Server, Site], mailbox: Mailbox
) -> None:
    server, site = served
    frame = on_the_vehicle_page(browser, site, server, 390)
    # The first step is the card, not the boxes: the car, its price, its photo, "Change".
    card = frame.locator(".vehicle-card")
    expect(card).to_contain_text("2025 Toyota RAV4 XLE · $34,250")
    photo = card.locator("img")
    expect(photo).to_have_attribute("src", f"{site.origin}/rav4.png")
    assert photo.evaluate("image => image.complete && image.naturalWidth") == 8
    expect(frame.locator("details.change-vehicle > summary")).to_contain_text("Change")
    expect(frame.locator("#f-make")).not_to_be_visible()  # folded under "Change"

    press(frame, "Continue")
    to_the_result(frame)
    expect(frame.locator("main")).to_contain_text("2025 Toyota RAV4 XLE")
    to_the_showroom(frame)

    alert = mail_to(mailbox, LEADS)
    assert "2025 Toyota RAV4 XLE" in alert["Subject"]
    text = alert.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "2025 Toyota RAV4 XLE" in text and SHOPPER in text
    # Stored as typed, and as the page gave it.
    draft = server.one("SELECT id, page_vehicle FROM drafts WHERE email = ?", SHOPPER)
    assert '"T1234"' in draft["page_vehicle"] and '"2025"' in draft["page_vehicle"]
    answers = {
        r["name"]: r["value"]
        for r in server.rows("SELECT name, value FROM field_values WHERE draft_id = ?", draft["id"])
    }
    assert (answers["year"], answers["make"], answers["stock_number"]) == (
        "2025",
        "Toyota",
        "T1234",
    )


def test_a_shopper_who_changes_the_car_sees_it_and_staff_see_both(
    browser: Browser, served: tuple[Server, Site], mailbox: Mailbox
) -> None:
    server, site = served
    frame = on_the_vehicle_page(browser, site, server, 320)
    # "Change" opens the boxes, filled with the page's car; the shopper picks a used 2023.
    frame.locator("details.change-vehicle > summary").click()
    expect(frame.locator("#f-make")).to_have_value("Toyota")
    fill(frame, condition="used", year="2023", price="29,900")
    press(frame, "Continue")
    to_the_result(frame)
    main = frame.locator("main")
    expect(main).to_contain_text("2023 Toyota RAV4 XLE")
    expect(main).not_to_contain_text("2025 Toyota RAV4")
    to_the_showroom(frame)

    alert = mail_to(mailbox, LEADS)
    assert "2023 Toyota RAV4 XLE" in alert["Subject"]

    # The lead's page names both: the car chosen, and the one the dealer's page named.
    lead = server.one("SELECT lead_id FROM drafts WHERE email = ?", SHOPPER)["lead_id"]
    manager = signed_in(browser, server, "morgan.manager@demo-motors.example", "manager")
    manager.open(f"/dashboard/leads/{lead}")
    page = manager.page.locator("main")
    expect(page).to_contain_text("The vehicle their page named: 2025 Toyota RAV4 XLE")
    expect(page).to_contain_text("stock T1234")
    expect(page).to_contain_text("2023 Toyota RAV4 XLE")
    manager.close()
