"""The sales dashboard end to end, in a real headless Chromium with JavaScript turned off.

A rep is invited with `resume staff add`, chooses a password, enrols an authenticator app from
the key on the page (the test computes the codes with pyotp, as the app would), keeps the
recovery codes, signs in, filters the lead list to "needs action", opens a shopper who saved
for later, logs a call and sets a status. Each step is checked as a person sees it and in the
rows the real `resume serve` process stored in its SQLite file.

Every dashboard page on the way is also checked for what a script-free, keyboard and phone
user needs: axe-core finds no violation (at 320 and 1280 px), nothing scrolls sideways at 320
or 390 px, and there is a skip link. The dashboard sends `script-src 'none'` and the person's
browser has JavaScript off, so axe runs in a second browser profile with JavaScript on and CSP
bypassed, on exactly the HTML the person's browser got, served at the same URL.
Screenshots at 390 and 1280 px go to /tmp/shots-dashboard/ to be looked at.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import (
    HALFWAY,
    PASSWORD,
    Shopper,
    child_env,
    free_port,
    saved_for_later,
    seed_demo,
    wait_for_serve,
)
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright
from test_browser import replayed

pytestmark = pytest.mark.browser

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
SHOTS = Path("/tmp/shots-dashboard")  # looked at by a person, so outside the repository
NARROW = (320, 390)  # no sideways scrolling at these widths
AXE_WIDTHS = (320, 1280)  # the one-column and the two-column layouts
SHOT_WIDTHS = (390, 1280)
REP = "riley.rep@demo-motors.example"
ADMIN = "alex.admin@demo-motors.example"
SHOPPER = "jordan.shopper@example.com"
INVITATION = re.compile(r"invitation \(one use, \d+ hours\): (\S+)")


# --- helpers -------------------------------------------------------------------------------


@dataclass
class Server:
    """The running `resume serve`: where it answers, its environment and its database file."""

    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    cwd: Path
    database: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def invite(self, email: str, role: str) -> str:
        """Invite a staff member as an operator would; return the printed link's path."""
        done = subprocess.run(
            [sys.executable, "-m", "resume", "staff", "add", email]
            + ["--dealer", "demo-motors", "--role", role],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        found = INVITATION.search(done.stdout)
        assert found, done.stdout
        link = found.group(1)
        assert link.startswith(f"{self.origin}/dashboard/invite/"), link
        return link.removeprefix(self.origin)

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """What the server stored, read straight from its SQLite file (the second witness)."""
        with closing(sqlite3.connect(self.database, timeout=10)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params)]

    def one(self, sql: str, *params: Any) -> dict[str, Any]:
        found = self.rows(sql, *params)
        assert len(found) == 1, found
        return found[0]


class Person:
    """One staff member's browser: a phone-sized profile with JavaScript off, which keeps
    every page (document) it was sent, so the checks see exactly what the person got."""

    def __init__(self, browser: Browser, server: Server, email: str) -> None:
        self.server = server
        self.email = email
        self.secret = ""  # the authenticator app's key, once enrolled
        self.context = browser.new_context(java_script_enabled=False, viewport=PHONE)
        self.page = self.context.new_page()
        self.documents: list[Response] = []
        self.page.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        # The page itself, not a frame inside it (the settings' live preview frames a widget).
        if response.request.resource_type == "document" and response.frame.parent_frame is None:
            self.documents.append(response)

    def open(self, path: str) -> None:
        reply = self.page.goto(f"{self.server.origin}{path}")
        assert reply is not None and reply.status == 200, reply and reply.status

    def html(self) -> str:
        """The HTML of the page now shown, as the server sent it."""
        last = self.documents[-1]
        assert last.url == self.page.url.split("#")[0], (last.url, self.page.url)
        return last.text()

    def press(self, label: str) -> None:
        self.page.get_by_role("button", name=label, exact=True).click()

    def close(self) -> None:
        self.context.close()


def fresh_code(server: Server, email: str, secret: str) -> str:
    """A code the app would show that the account has not used yet: a code is accepted once
    per time step, so after one in this step, the next step's (an app's clock may run a step
    ahead, and the server allows one step of drift)."""
    now = int(time.time()) // 30
    last = server.one("SELECT totp_step FROM staff WHERE email = ?", email)["totp_step"]
    step = now if last is None or last < now else now + 1
    assert last is None or step > last, "a third code inside one time step: wait for the next"
    return str(pyotp.TOTP(secret).generate_otp(step))


@dataclass
class Inspector:
    """Checks each page the people saw: axe-core, sideways scrolling, the skip link; and takes
    its screenshots. Runs in its own profile with JavaScript on and CSP bypassed, where the
    page's HTML is served from what the person's browser got (so nothing is asked of the
    server but the stylesheet, and a lead page looked at is not a second lead view)."""

    browser: Browser
    axe: Axe = field(default_factory=Axe)
    violations: list[str] = field(default_factory=list)
    overflows: list[str] = field(default_factory=list)
    widths: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(
            java_script_enabled=True, bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        SHOTS.mkdir(exist_ok=True)

    def check(self, person: Person, name: str) -> None:
        """Everything a page must be, whoever opened it: no script, a skip link to the main
        content, no axe violation, no sideways scrolling."""
        assert "<script" not in person.html().lower(), f"{name}: a script in the page"
        expect(person.page.locator("a.skip")).to_have_attribute("href", "#main")
        expect(person.page.locator("main#main")).to_have_count(1)
        self._screenshots(person.page, name)
        with self._replay(person) as page:
            self._measure(page, name)
            for width in AXE_WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                result = self.axe.run(page).response
                assert result["passes"], f"{name}: axe ran no rule at all"
                for v in result["violations"]:
                    targets = "; ".join(" ".join(node["target"]) for node in v["nodes"])
                    self.violations.append(
                        f"{name} at {width} px: {v['id']} ({v['impact']}): {targets}"
                    )

    def unlabelled(self, person: Person) -> list[str]:
        """Every form control a person can reach on the page without a label."""
        with self._replay(person) as page:
            return page.evaluate(  # type: ignore[no-any-return]
                """() => {
                  const controls = document.querySelectorAll(
                    'input:not([type=hidden]):not([hidden]), select, textarea, button');
                  return [...controls].filter(c => !(
                    (c.labels && c.labels.length) || c.getAttribute('aria-label') ||
                    c.getAttribute('aria-labelledby') ||
                    (c.tagName === 'BUTTON' && c.textContent.trim())
                  )).map(c => c.outerHTML);
                }"""
            )

    @contextmanager
    def _replay(self, person: Person) -> Iterator[Page]:
        """A page of this profile showing, at the same URL, exactly the HTML the person's
        browser got, with every <details> opened so that what is inside (Set the status,
        Reveal...) is checked too."""
        with replayed(self.context, person.page.url.split("#")[0], person.html()) as page:
            yield page

    def _measure(self, page: Page, name: str) -> None:
        self.widths[name] = {}
        for width in NARROW:
            page.set_viewport_size({"width": width, "height": 800})
            scroll, client, wide = page.evaluate(
                """() => {
                  const root = document.documentElement, limit = root.clientWidth;
                  const wide = [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                    .slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                              (e.className && typeof e.className === 'string'
                                ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
                  return [root.scrollWidth, limit, wide];
                }"""
            )
            self.widths[name][width] = (scroll, client)
            if scroll > client:
                self.overflows.append(
                    f"{name} at {width} px: scrollWidth {scroll} > clientWidth {client}; "
                    f"wider than the page: {', '.join(wide)}"
                )

    def _screenshots(self, page: Page, name: str) -> None:
        for width in SHOT_WIDTHS:
            page.set_viewport_size({"width": width, "height": 844 if width < 900 else 900})
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(PHONE)

    def report(self) -> str:
        """scrollWidth / clientWidth of each page at each narrow width, one page a line."""
        return "\n".join(
            f"{name:24} " + "  ".join(f"{w} px: {s}/{c}" for w, (s, c) in sorted(measured.items()))
            for name, measured in self.widths.items()
        )


def accept_invitation(person: Person, inspector: Inspector | None, link: str) -> list[str]:
    """Open the invitation, choose the password, enrol the app from the key on the page;
    return the recovery codes shown. `inspector` checks each page on the way."""

    def check(name: str) -> None:
        if inspector:
            inspector.check(person, name)

    person.open(link)
    expect(person.page.get_by_role("heading", level=1)).to_contain_text("Choose a password")
    check("invitation")

    # A password too short first: the error summary, linked to the field; nothing stored.
    person.page.get_by_label("Password", exact=True).fill("too short")
    person.page.get_by_label("Type it again").fill("too short")
    person.press("Continue")
    summary = person.page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#password")
    expect(person.page).to_have_title(re.compile(r"^Error: "))
    stored = person.server.one("SELECT password_hash FROM staff WHERE email = ?", person.email)
    assert stored == {"password_hash": None}
    check("invitation-error")

    person.page.get_by_label("Password", exact=True).fill(PASSWORD)
    person.page.get_by_label("Type it again").fill(PASSWORD)
    person.press("Continue")
    expect(person.page.get_by_role("heading", level=1)).to_contain_text(
        "Set up your authenticator app"
    )
    expect(person.page.locator(".qr svg")).to_be_visible()
    person.secret = person.page.locator("#totp-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}", person.secret), person.secret
    check("enrol")

    person.page.get_by_label("Code", exact=True).fill(pyotp.TOTP(person.secret).now())
    person.press("Finish")
    expect(person.page.get_by_role("status")).to_have_text("Your account is ready.")
    codes = person.page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-z]{4}(-[0-9a-z]{4}){3}", c) for c in codes)
    check("recovery")
    return codes


def sign_in(person: Person, inspector: Inspector | None) -> None:
    """Email and password, then a fresh code; land on the lead list."""
    person.page.get_by_label("Email").fill(person.email)
    person.page.get_by_label("Password").fill(PASSWORD)
    person.press("Continue")
    expect(person.page.get_by_role("heading", level=1)).to_have_text("Enter the code from your app")
    if inspector:
        inspector.check(person, "code")
    code = fresh_code(person.server, person.email, person.secret)
    person.page.get_by_label("Code", exact=True).fill(code)
    person.press("Sign in")
    expect(person.page).to_have_url(f"{person.server.origin}/dashboard/leads")
    expect(person.page.get_by_role("heading", level=1)).to_have_text("Leads")


def signed_in(browser: Browser, server: Server, email: str, role: str) -> Person:
    """Someone invited with `resume staff add`, their account set up and signed in, on the
    lead list (the pages on the way are the rep's story's to check)."""
    person = Person(browser, server, email)
    accept_invitation(person, None, server.invite(email, role))
    person.page.get_by_role("link", name="Sign in").click()
    sign_in(person, None)
    return person


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The real `resume serve` process (web plus outbox worker) on a free port, seeded with
    Demo Motors by `resume demo`, its mail kept on disk; always stopped after."""
    port = free_port()
    database = tmp_path / "resume.db"
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
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
    running = Server(port, process, env, tmp_path, database)
    try:
        wait_for_serve(
            process, running.origin, lambda: stderr_path.read_text(errors="replace"), 20.0
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
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
            "./scripts/test does it)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def inspector(browser: Browser) -> Iterator[Inspector]:
    """The JavaScript-on profile that runs axe and measures the pages the people saw."""
    made = Inspector(browser)
    try:
        yield made
    finally:
        made.context.close()


# --- the story -----------------------------------------------------------------------------


def test_a_rep_is_invited_signs_in_and_works_a_lead(
    server: Server, browser: Browser, inspector: Inspector
) -> None:
    # 1. The invitation, as an operator makes it.
    link = server.invite(REP, "sales")
    assert server.one("SELECT status, role FROM staff WHERE email = ?", REP) == {
        "status": "invited",
        "role": "sales",
    }

    # 2, 3. The password, then the app's key read off the page and its code; the codes.
    rep = Person(browser, server, REP)
    recovery = accept_invitation(rep, inspector, link)
    account = server.one(
        "SELECT id, status, password_hash, totp_secret, totp_step FROM staff WHERE email = ?", REP
    )
    assert account["status"] == "active" and account["totp_step"] is not None
    assert account["password_hash"].startswith("$argon2id$")
    assert rep.secret not in str(account["totp_secret"])  # sealed at rest, not as shown
    # Ten codes kept for the account, as hashes: shown on that page once, stored nowhere.
    hashes = server.rows("SELECT code_hash FROM recovery_codes WHERE staff_id = ?", account["id"])
    assert len(hashes) == 10
    assert not {code for code in recovery if any(code in str(h["code_hash"]) for h in hashes)}
    enrolled = server.rows(
        "SELECT action FROM audit WHERE staff_id = ? AND action = 'mfa_enrolled'", account["id"]
    )
    assert len(enrolled) == 1

    # A shopper saves for later with an email and consent: a lead, given to the only active
    # rep by round-robin. Plain form posts over HTTP, as any browser sends them.
    with httpx.Client(base_url=server.origin) as client:
        shopper = Shopper(client)  # type: ignore[arg-type]  # httpx: the same calls
        draft_id = saved_for_later(shopper, SHOPPER, consent=True, numbers=HALFWAY)
    lead = server.one("SELECT * FROM leads WHERE email = ?", SHOPPER)
    assert server.one("SELECT lead_id FROM drafts WHERE id = ?", draft_id)["lead_id"] == lead["id"]
    assert (lead["owner_id"], lead["status"], lead["attempts"]) == (account["id"], "new", 0)

    # 4. Signing in: email and password, then a code not used yet.
    rep.page.get_by_role("link", name="Sign in").click()
    expect(rep.page.get_by_role("heading", level=1)).to_have_text("Sign in")
    inspector.check(rep, "login")
    sign_in(rep, inspector)
    inspector.check(rep, "leads")
    assert server.rows(
        "SELECT id FROM audit WHERE staff_id = ? AND action = 'sign_in'", account["id"]
    )

    # 5. Needs action: tick the box, apply (a GET form); the choice is shown, removable.
    rep.page.get_by_label("Needs action").check()
    rep.press("Apply filters")
    expect(rep.page).to_have_url(re.compile(r"/dashboard/leads\?(.*&)?needs=1(&|$)"))
    expect(rep.page.get_by_label("Needs action")).to_be_checked()
    expect(rep.page.locator(".chosen")).to_contain_text("Needs action")
    row = rep.page.locator("tr", has=rep.page.get_by_role("link", name=SHOPPER))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("New")
    expect(row).to_contain_text(REP)
    inspector.check(rep, "leads-needs-action")

    # 6. The lead's page, from the shopper's name in the list.
    row.get_by_role("link", name=SHOPPER).click()
    expect(rep.page).to_have_url(f"{server.origin}/dashboard/leads/{lead['id']}")
    expect(rep.page.get_by_role("heading", level=1)).to_contain_text("Demo Motors")
    expect(rep.page.get_by_role("link", name=SHOPPER)).to_have_attribute(
        "href", f"mailto:{SHOPPER}"
    )
    summary = rep.page.locator("dl.summary").first
    expect(summary).to_contain_text("Follow-up emails")
    expect(summary.locator(".tag")).to_have_text("New")
    views = server.rows(
        "SELECT id FROM audit WHERE action = 'lead_viewed' AND subject = ?", f"lead:{lead['id']}"
    )
    assert len(views) == 1
    inspector.check(rep, "lead")
    assert inspector.unlabelled(rep) == []
    # The keyboard: the first Tab reaches the skip link, and it leads to the main content.
    rep.page.keyboard.press("Tab")
    skip = rep.page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, box  # on screen when focused
    rep.page.keyboard.press("Enter")
    expect(rep.page).to_have_url(re.compile(r"#main$"))

    # 7a. A call that reached voicemail: logged, the status moves to Attempting contact.
    rep.page.get_by_role("radio", name="Call").check()
    rep.page.get_by_role("radio", name="Left voicemail").check()
    rep.page.get_by_label("Note (optional)").fill("Left the 60-month numbers on voicemail")
    rep.press("Log attempt")
    expect(rep.page).to_have_url(re.compile(rf"/dashboard/leads/{lead['id']}\?done=[\w.-]+$"))
    expect(rep.page.get_by_role("status")).to_have_text("Attempt logged.")
    expect(rep.page.locator("dl.summary").first.locator(".tag")).to_have_text("Attempting contact")
    timeline = rep.page.locator("ol.timeline > li")
    expect(timeline.first).to_contain_text("Status: Attempting contact")  # newest first
    call = timeline.filter(has_text="Call: Left voicemail")
    expect(call).to_have_count(1)
    expect(call).to_contain_text("Left the 60-month numbers on voicemail")
    expect(call).to_contain_text(f"by {REP}")
    inspector.check(rep, "lead-attempt-logged")
    stored = server.one(
        "SELECT status, attempts, first_attempt_at FROM leads WHERE id = ?", lead["id"]
    )
    assert stored["status"] == "attempting" and stored["attempts"] == 1
    assert stored["first_attempt_at"] is not None
    attempt = server.one(
        "SELECT staff_id, channel, outcome, note FROM lead_activity WHERE lead_id = ? "
        "AND kind = 'attempt'",
        lead["id"],
    )
    assert attempt == {
        "staff_id": account["id"],
        "channel": "call",
        "outcome": "voicemail",
        "note": "Left the 60-month numbers on voicemail",
    }
    assert server.rows(
        "SELECT id FROM audit WHERE action = 'attempt_logged' AND staff_id = ? AND subject = ?",
        account["id"],
        f"lead:{lead['id']}",
    )

    # 7b. The status, from the closed "Set the status" (a <summary> opens it, no script).
    set_status = rep.page.locator("details", has_text="Set the status")
    status_box = rep.page.get_by_label("Status", exact=True)
    expect(status_box).to_be_hidden()
    set_status.locator("summary").click()
    expect(status_box).to_be_visible()
    status_box.select_option(label="Contacted")
    rep.press("Set status")
    expect(rep.page).to_have_url(re.compile(rf"/dashboard/leads/{lead['id']}\?done=[\w.-]+$"))
    expect(rep.page.get_by_role("status")).to_have_text("Status changed.")
    expect(rep.page.locator("dl.summary").first.locator(".tag")).to_have_text("Contacted")
    newest = rep.page.locator("ol.timeline > li").first
    expect(newest).to_contain_text("Status: Contacted")
    expect(newest).to_contain_text(f"by {REP}")
    inspector.check(rep, "lead-status-set")
    assert server.one("SELECT status FROM leads WHERE id = ?", lead["id"])["status"] == "contacted"
    assert server.one("SELECT lead_status FROM drafts WHERE id = ?", draft_id) == {
        "lead_status": "contacted"
    }
    # The voicemail's move to Attempting contact, then the status set by hand.
    by_attempt, changed = (
        server.one(
            "SELECT staff_id, detail FROM audit WHERE action = 'status_changed' AND subject = ? "
            f"ORDER BY id LIMIT 1 OFFSET {n}",
            f"lead:{lead['id']}",
        )
        for n in (0, 1)
    )
    assert by_attempt["staff_id"] == changed["staff_id"] == account["id"]
    assert json.loads(by_attempt["detail"]) == {"from": "new", "to": "attempting", "by": "attempt"}
    assert json.loads(changed["detail"]) == {"from": "attempting", "to": "contacted"}
    assert server.one(
        "SELECT staff_id FROM lead_activity WHERE lead_id = ? AND kind = 'status' "
        "ORDER BY id DESC LIMIT 1",
        lead["id"],
    ) == {"staff_id": account["id"]}

    # Worked: the shopper no longer needs action.
    rep.page.get_by_role("link", name="Back to leads").click()
    rep.page.get_by_label("Needs action").check()
    rep.press("Apply filters")
    expect(rep.page.locator(".chosen")).to_contain_text("Needs action")
    expect(rep.page.get_by_role("link", name=SHOPPER)).to_have_count(0)

    # The account page, from the rep's name in the bar.
    rep.page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=REP).click()
    expect(rep.page.get_by_role("heading", level=1)).to_contain_text(REP)
    expect(rep.page.get_by_role("button", name="Sign out everywhere")).to_be_visible()
    inspector.check(rep, "account")
    rep.close()

    # An admin (the same invitation pages, checked above) reads the audit: the rep's
    # sign-in, the lead viewed, the attempt, the status.
    admin = Person(browser, server, ADMIN)
    accept_invitation(admin, None, server.invite(ADMIN, "admin"))
    admin.page.get_by_role("link", name="Sign in").click()
    sign_in(admin, None)
    admin.page.get_by_role("link", name="Audit").click()
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Audit")
    entries = admin.page.locator("table.plain tbody tr", has_text=REP)
    for action in ("sign in", "lead viewed", "attempt logged", "status changed"):
        expect(entries.filter(has_text=action).first).to_be_visible()
    inspector.check(admin, "audit")
    # The outbox: the shopper's resume link, which the server's worker sent, found with
    # the filter; a sent message has nothing to press.
    admin.page.get_by_role("link", name="Outbox").click()
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Outbox")
    admin.page.get_by_label("Status").select_option(label="Sent")
    admin.press("Show")
    link = admin.page.locator("table.plain tbody tr", has_text=SHOPPER).filter(
        has_text="Resume link"
    )
    expect(link.first).to_be_visible()
    expect(link.first.get_by_role("button")).to_have_count(0)
    inspector.check(admin, "outbox")
    # "Do not email": an address typed wrong is shown back with its error; then added.
    admin.page.get_by_role("link", name="Do not email").click()
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Do not email")
    admin.page.get_by_label("Email address").fill("no-at-sign.example.com")
    admin.page.get_by_label("Why").fill("asked by phone not to be emailed")
    admin.press("Add to the list")
    expect(admin.page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(admin.page.get_by_label("Email address")).to_have_value("no-at-sign.example.com")
    inspector.check(admin, "suppressions-error")
    admin.page.get_by_label("Email address").fill("asked.not.to@example.com")
    admin.press("Add to the list")
    expect(admin.page.get_by_role("status")).to_contain_text("The address is on the list.")
    expect(
        admin.page.locator("table.plain tbody tr", has_text="asked.not.to@example.com")
    ).to_have_count(1)
    inspector.check(admin, "suppressions")
    admin.close()

    print("scrollWidth/clientWidth by page:\n" + inspector.report())
    problems = inspector.violations + inspector.overflows
    assert not problems, "\n".join(problems)
