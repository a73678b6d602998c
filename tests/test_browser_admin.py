"""A new dealer's admin sets the dealership up in a real headless Chromium with JavaScript
off (issue #13): signs in, adds the site its pages are served from, copies the trade-in
snippet and sees it work in a page of that site, sees the live preview render the widget in
its frame (typing there stores nothing), changes the follow-up cadence, and invites a rep.
The audit shows each change. Every page is checked as the sales dashboard's are: axe-core
finds no violation, nothing scrolls sideways at 320 or 390 px; screenshots go to
/tmp/shots-dashboard/.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import free_port
from playwright.sync_api import Browser, expect
from test_browser_dashboard import (  # noqa: F401  (fixtures: browser, inspector, server)
    Inspector,
    Person,
    Server,
    accept_invitation,
    browser,
    inspector,
    server,
    sign_in,
)

pytestmark = pytest.mark.browser

ADMIN = "dana.admin@demo-motors.example"
NEW_REP = "sam.rep@demo-motors.example"
# The dealer's site: a real web server on this machine, as the server under test is (Chrome
# refuses a public site's frame of a loopback address, and an https page's of an http one;
# neither stands between a real dealer's site and a real installation).
SITE_PORT = free_port()
SITE = f"http://localhost:{SITE_PORT}"


@contextmanager
def dealer_site(snippet: str) -> Iterator[str]:
    """The dealer's "value your trade" page, with the snippet pasted in; its address."""
    body = (
        "<!doctype html><html lang=en><title>Value your trade</title>"
        f"<h1>Value your trade</h1>{snippet}</html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", SITE_PORT), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{SITE}/trade"
    finally:
        httpd.shutdown()
        httpd.server_close()


def config(running: Server) -> dict[str, Any]:
    row = running.one("SELECT config, origins FROM dealers WHERE slug = 'demo-motors'")
    return {"config": json.loads(row["config"]), "origins": json.loads(row["origins"])}


def test_a_new_admin_sets_up_the_embed_and_the_follow_up(  # noqa: F811 (fixtures)
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
    inspector: Inspector,  # noqa: F811
) -> None:
    admin = Person(browser, server, ADMIN)
    accept_invitation(admin, None, server.invite(ADMIN, "admin"))
    admin.page.get_by_role("link", name="Sign in").click()
    sign_in(admin, None)

    # 1. Settings: one dealership, so straight to its page.
    admin.page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name="Settings"
    ).click()
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text("Demo Motors")
    inspector.check(admin, "settings")

    # 2. Add the site its pages are served from; a path typed by mistake is refused first.
    admin.page.get_by_role("link", name=re.compile("Snippets to paste")).click()
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text("Embed on your site")
    before = config(server)["origins"]
    admin.page.get_by_label("Add a site").fill(f"localhost:{SITE_PORT}/cars?x=1")
    admin.press("Add the site")
    expect(admin.page.get_by_role("alert")).to_contain_text("is not an origin")
    expect(admin.page.get_by_label("Add a site")).to_have_value(f"localhost:{SITE_PORT}/cars?x=1")
    assert config(server)["origins"] == before
    inspector.check(admin, "settings-embed-error")
    admin.page.get_by_label("Add a site").fill(SITE)
    admin.press("Add the site")
    expect(admin.page.get_by_role("status")).to_contain_text("are changed")
    expect(admin.page.locator("table.plain td.wrap", has_text=SITE)).to_have_count(1)
    assert config(server)["origins"] == [*before, SITE]

    # 3. Copy the trade-in snippet, and paste it into a page of that site: the frame shows
    # the widget there (the site's page is served by the browser's router, as the dealer's
    # web server would serve it).
    snippet = admin.page.locator("#snippet-trade-in").input_value()
    assert snippet == (
        f'<iframe src="{server.origin}/embed/demo-motors/trade-in" '
        'title="What\'s your car worth?" height="900" style="border:0;width:100%" '
        'loading="lazy"></iframe>'
    ), snippet
    with dealer_site(snippet) as page_url:
        site = browser.new_context(
            java_script_enabled=False, viewport={"width": 390, "height": 844}
        )
        try:
            page = site.new_page()
            page.goto(page_url)
            framed = page.frame_locator("iframe")
            expect(framed.get_by_role("heading", level=1).first).to_be_visible()
            expect(framed.get_by_role("button", name="Continue")).to_be_visible()
        finally:
            site.close()
    inspector.check(admin, "settings-embed")

    # 4. The live preview: the widget in its frame, with a notice; what is typed there and
    # sent on is not stored anywhere.
    drafts_before = server.one("SELECT count(*) AS n FROM drafts")["n"]
    events_before = server.one("SELECT count(*) AS n FROM events")["n"]
    admin.page.get_by_role("link", name=re.compile("Preview the trade-in widget")).click()
    expect(admin.page.get_by_role("heading", name=re.compile("Live preview"))).to_be_visible()
    preview = admin.page.frame_locator("iframe.preview")
    expect(preview.get_by_role("status")).to_contain_text("nothing typed here is saved")
    expect(preview.get_by_role("button", name="Continue")).to_be_visible()
    first_box = preview.locator("input[type=text]").first
    first_box.fill("1HGCM82633A004352")
    preview.get_by_role("button", name="Continue").click()
    expect(preview.get_by_role("status")).to_contain_text("nothing typed here is saved")
    assert server.one("SELECT count(*) AS n FROM drafts")["n"] == drafts_before
    assert server.one("SELECT count(*) AS n FROM events")["n"] == events_before
    inspector.check(admin, "settings-preview")

    # 5. The follow-up cadence: a delay that isn't one is refused with its message, then
    # the new cadence is saved.
    admin.page.get_by_role("link", name=re.compile("Back to Demo Motors")).click()
    admin.page.get_by_role("link", name="Change follow-up").click()  # "Change" + hidden words
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text("Follow-up")
    inspector.check(admin, "settings-followup")
    cadence = admin.page.get_by_label("Follow-up emails go out after")
    cadence.fill("2h, soon")
    admin.press("Save")
    expect(admin.page.get_by_role("alert")).to_contain_text("'soon' is not a delay")
    expect(admin.page).to_have_title(re.compile("^Error: "))
    assert config(server)["config"]["cadence"] == [60, 1440, 4320, 10080, 20160]
    inspector.check(admin, "settings-followup-error")
    cadence.fill("2h, 1d, 4d")
    admin.press("Save")
    expect(admin.page.get_by_role("status")).to_contain_text("Follow-up: saved")
    assert config(server)["config"]["cadence"] == [120, 1440, 5760]

    # 6. Invite a rep: the invitation link is shown once on their page, and it works.
    admin.page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Staff").click()
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Staff")
    inspector.check(admin, "staff")
    admin.page.get_by_label("Email address").fill(NEW_REP)
    admin.page.get_by_label("Role").select_option(label="Sales")
    admin.press("Invite")
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text(NEW_REP)
    link = admin.page.locator("#invite-link").inner_text().strip()
    assert link.startswith(f"{server.origin}/dashboard/invite/"), link
    assert server.one("SELECT role, status FROM staff WHERE email = ?", NEW_REP) == {
        "role": "sales",
        "status": "invited",
    }
    inspector.check(admin, "staff-invited")
    rep = Person(browser, server, NEW_REP)
    accept_invitation(rep, None, link.removeprefix(server.origin))
    rep.close()
    assert server.one("SELECT status FROM staff WHERE email = ?", NEW_REP)["status"] == "active"

    # 7. The audit shows each change, by this admin.
    admin.page.get_by_role("link", name="Audit").click()
    entries = admin.page.locator("table.plain tbody tr", has_text=ADMIN)
    for action in ("origins changed", "settings changed", "staff invited"):
        expect(entries.filter(has_text=action).first).to_be_visible()
    inspector.check(admin, "audit-admin")
    admin.close()

    print("scrollWidth/clientWidth by page:\n" + inspector.report())
    problems = inspector.violations + inspector.overflows
    assert not problems, "\n".join(problems)
