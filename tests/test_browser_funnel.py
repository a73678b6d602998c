"""The funnel (issue #10, item 2) in a real headless Chromium with JavaScript off: Demo
Motors' manager, invited and signed in as the dashboard's people are, opens the Funnel from
the bar, reads the chart and its table for the seeded demo shoppers, moves to another widget
and a source, and follows a figure to the lead list behind it. Each page is checked as the
dashboard's are: axe-core finds no violation, nothing scrolls sideways at 320 or 390 px;
screenshots at 390 and 1280 px go to /tmp/shots-dashboard/.
"""

from __future__ import annotations

import re

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

MANAGER = "casey.mgr@demo-motors.example"


def test_a_manager_reads_the_funnel_and_drills_down_to_the_leads(  # noqa: F811 (fixtures)
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    inspector: Inspector,  # noqa: F811
) -> None:
    manager = signed_in(browser, server, MANAGER, "manager")
    page = manager.page
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Funnel").click()
    expect(page).to_have_url(f"{server.origin}/dashboard/funnel")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Estimate your monthly payment")

    # The demo's payment shoppers, counted as the database holds them.
    started = server.one(
        "SELECT COUNT(*) AS n FROM drafts WHERE dealer_id = 1 AND widget = 'payment'"
    )["n"]
    sold = server.one(
        "SELECT COUNT(*) AS n FROM leads WHERE dealer_id = 1 AND cohort_widget = 'payment'"
        " AND sold_at IS NOT NULL"
    )["n"]
    assert started > 0 and sold > 0
    table = page.get_by_role("table", name="The funnel, point by point")
    row = table.get_by_role("row", name=re.compile("^Drafts started"))
    expect(row.get_by_role("cell").first).to_have_text(str(started))
    # The chart: a bar a point, drawn by the server, its words readable text.
    chart = page.get_by_role("img", name=re.compile("^Bar chart of the funnel"))
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar").first).to_be_visible()
    expect(chart.locator("text.bar-label").first).to_have_text("Drafts started")
    inspector.check(manager, "funnel")

    # Another widget, then back; the range and the source come from the form.
    page.get_by_role("navigation", name="Widgets").get_by_role(
        "link", name="See if you pre-qualify"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("See if you pre-qualify")
    inspector.check(manager, "funnel-credit")
    page.get_by_role("navigation", name="Widgets").get_by_role(
        "link", name="Estimate your monthly payment"
    ).click()
    page.get_by_label("Source").select_option("direct")
    manager.press("Show")
    expect(page).to_have_url(re.compile(r"source=direct"))
    expect(page.get_by_role("table", name="The funnel, point by point")).to_be_visible()

    # A figure is a link to the leads behind it.
    sold_row = page.get_by_role("table", name="The funnel, point by point").get_by_role(
        "row", name=re.compile("^Sold")
    )
    sold_row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    expect(page.get_by_role("link", name=re.compile("From the funnel: "))).to_be_visible()
    expect(page.locator("table.cases-table tbody tr")).to_have_count(sold)
    inspector.check(manager, "funnel-leads")
    assert not inspector.violations, "\n".join(inspector.violations)
    assert not inspector.overflows, "\n".join(inspector.overflows)
    manager.close()
