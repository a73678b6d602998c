"""The team page (issue #10, item 3) in a real headless Chromium with JavaScript off: Demo
Motors' manager, invited and signed in as the sales dashboard's people are, opens the Team
page from the bar, reads the figures of the seeded demo shoppers, narrows the range with the
filter form, and follows a figure to the lead list behind it. Each page is checked as the
dashboard's are: axe-core finds no violation, nothing scrolls sideways at 320 or 390 px (the
figures tables scroll inside their own region); screenshots at 390 and 1280 px go to
/tmp/shots-dashboard/.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from test_browser_dashboard import (  # noqa: F401  (fixtures: browser, inspector, server)
    Inspector,
    Server,
    browser,
    inspector,
    server,
    signed_in,
)

pytestmark = pytest.mark.browser

MANAGER = "quinn.mgr@demo-motors.example"


def test_a_manager_reads_the_team_page_and_drills_down_to_the_leads(  # noqa: F811 (fixtures)
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    inspector: Inspector,  # noqa: F811
) -> None:
    manager = signed_in(browser, server, MANAGER, "manager")

    manager.page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name="Team"
    ).click()
    page = manager.page
    expect(page).to_have_url(f"{server.origin}/dashboard/team")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Team follow-through")
    today = dt.datetime.now(ZoneInfo("America/Chicago")).date()
    start = today - dt.timedelta(days=29)
    expect(page.get_by_label("Captured from")).to_have_value(start.isoformat())
    expect(page.get_by_label("Captured to (including that day)")).to_have_value(today.isoformat())
    # The demo shoppers are Demo Motors' leads in the last 30 days: the store's row counts
    # them all, as the database does.
    leads = server.rows("SELECT id FROM leads WHERE dealer_id = 1")
    assert leads
    store = page.get_by_role("table", name="Response time by store").get_by_role(
        "row", name=re.compile("^Demo Motors")
    )
    expect(store.get_by_role("cell").first).to_have_text(str(len(leads)))
    for caption in (
        "Response time by rep (lead owner)",
        "Attempts per lead by store",
        "Outcomes by store",
    ):
        expect(page.get_by_role("table", name=caption)).to_be_visible()
    inspector.check(manager, "team")

    # The filter is a GET form: today alone.
    page.get_by_label("Captured from").fill(today.isoformat())
    manager.press("Show")
    expect(page).to_have_url(re.compile(rf"/dashboard/team\?from={today}&to={today}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(today.strftime("%-d %b %Y"))
    # A reversed range is a page that says so, not a 500.
    reversed_url = f"/dashboard/team?from={today}&to={today - dt.timedelta(days=3)}"
    reply = page.goto(f"{server.origin}{reversed_url}")
    assert reply is not None and reply.status == 400
    expect(page.locator("main")).to_contain_text("The range ends before it starts")
    page.go_back()

    # Drill-down: the store's lead count is a link to the lead list with the same leads.
    manager.open("/dashboard/team")
    link = store.get_by_role("cell").first.get_by_role("link")
    expect(link).to_have_text(str(len(leads)))
    link.click()
    expect(page).to_have_url(re.compile(r"/dashboard/leads\?dealer=demo-motors&since=.*&until="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    expect(page.locator(".chosen")).to_contain_text("Demo Motors")
    expect(page.locator(".chosen")).to_contain_text(f"From {start.isoformat()}")
    expect(page.locator(".list-meta strong").first).to_have_text(str(len(leads)))
    inspector.check(manager, "team-drill-down")
    manager.close()

    print("scrollWidth/clientWidth by page:\n" + inspector.report())
    problems = inspector.violations + inspector.overflows
    assert not problems, "\n".join(problems)
