"""A logo file uploaded by a dealership's admin in headless Chromium with JavaScript off
(issue #11, item 4): the branding page's plain `<input type=file>` form refuses an HTML page
named .png with the reason, keeps a real image, shows it back, and the widget in the demo's
cross-origin frame shows it from our origin. Every page is checked by the Inspector (axe,
sideways scrolling) and its screenshots go to /tmp/shots-dashboard/.
"""

from __future__ import annotations

from pathlib import Path

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
from test_logo import png

pytestmark = pytest.mark.browser

BRANDING = "/dashboard/settings/demo-motors/branding"


def test_an_admin_uploads_a_logo_and_the_framed_widget_shows_it(  # noqa: F811 (fixtures)
    browser: Browser,  # noqa: F811
    inspector: Inspector,  # noqa: F811
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    admin = signed_in(browser, server, "lee.admin@demo-motors.example", "admin")
    admin.open(BRANDING)
    expect(admin.page.get_by_role("heading", name="Logo file")).to_be_visible()
    inspector.check(admin, "branding-logo-none")

    # A web page renamed logo.png: its first bytes say what it is, and it is refused.
    page = tmp_path / "logo.png"
    page.write_text("<!doctype html><title>x</title><p>not a logo</p>")
    admin.page.set_input_files("#logo-file", str(page))
    admin.press("Upload the logo")
    expect(admin.page.locator(".error-summary")).to_contain_text("not a PNG, JPEG or WebP")
    expect(admin.page.locator("#logo-file-error")).to_be_visible()
    inspector.check(admin, "branding-logo-refused")
    assert server.rows("SELECT dealer_id FROM dealer_logos") == []

    image = tmp_path / "logo-wide.jpg"  # a PNG, whatever its name says
    image.write_bytes(png(120, 30))
    admin.page.set_input_files("#logo-file", str(image))
    admin.press("Upload the logo")
    expect(admin.page.get_by_role("status")).to_contain_text("Branding: saved")
    admin.open(BRANDING)
    preview = admin.page.locator("img.logo-preview")
    assert preview.evaluate("image => image.complete && image.naturalWidth") == 120
    expect(admin.page.locator("main")).to_contain_text("Shown now: a PNG file of")
    inspector.check(admin, "branding-logo-kept")
    [kept] = server.rows("SELECT content_type FROM dealer_logos")
    assert kept["content_type"] == "image/png"

    # The widget on the demo's dealer page (another site) shows it, from our own origin.
    shopper = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    host = shopper.new_page()
    host.goto(f"http://localhost:{server.port}/demo")
    frame = host.frame_locator("iframe")
    logo = frame.locator(".brand img.logo")
    expect(logo).to_have_attribute("alt", "Demo Motors")
    src = logo.get_attribute("src")
    assert src is not None and src.startswith("/logo/demo-motors/")
    assert logo.evaluate("image => image.complete && image.naturalWidth") == 120
    host.locator("iframe").screenshot(path="/tmp/shots-dashboard/widget-with-logo-390.png")
    shopper.close()

    # Removed: the widget shows the dealership's name again.
    admin.press("Remove the logo file")
    expect(admin.page.get_by_role("status")).to_contain_text("Branding: saved")
    assert server.rows("SELECT dealer_id FROM dealer_logos") == []
    admin.close()
