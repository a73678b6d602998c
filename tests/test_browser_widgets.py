"""Issue #3 end to end in headless Chromium with JavaScript off: the trade-in and the credit
widgets in the demo dealer page's iframe, partly filled, saved for later, reopened from the
emailed link on another device on the right step with the answers back, and finished."""

from __future__ import annotations

import re

import pytest
import test_browser
from conftest import Mailbox
from playwright.sync_api import Browser, BrowserContext, Frame, expect
from test_browser import (
    Server,
    expect_answers,
    expect_step,
    fill,
    new_shopper_context,
    press,
    wait_for_mail,
)

from resume.web import demo

# The same real `resume serve` and Chromium as the payment story.
server = test_browser.server
browser = test_browser.browser

EMAIL = "sam.trader@example.com"


def _framed(context: BrowserContext, server: Server, widget: str, first_step: str) -> Frame:
    """The demo dealer page (one site) with `widget` in its iframe (another site), showing its
    first step; return the frame."""
    host = context.new_page()
    host.goto(f"{server.dealer_origin}/demo?widget={widget}")
    heading = host.frame_locator("iframe").get_by_role("heading", level=2, name=first_step)
    expect(heading).to_be_visible()
    frame = host.main_frame.child_frames[0]
    assert frame.url == demo.widget_url(server.widget_origin, widget)  # the page's car, if any
    return frame


def _link(server: Server, mailbox: Mailbox) -> str:
    message = wait_for_mail(mailbox)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"{re.escape(server.widget_origin)}/r/\S+", text)
    assert found, text
    return found.group(0)


@pytest.mark.browser
def test_trade_in_saved_for_later_and_finished_on_another_device(
    server: Server, mailbox: Mailbox, browser: Browser
) -> None:
    laptop = new_shopper_context(browser)
    frame = _framed(laptop, server, "trade-in", "Your car")

    # A lower-case VIN with spaces; the year and make come from it.
    fill(frame, vin="1hgcm 82633a 004352", model="Accord", trim="EX")
    press(frame, "Continue")
    expect_step(frame, "Mileage and condition")
    condition = {"mileage": "148,500", "grade": "good"}
    history = {"accident": "none", "warning_lights": "no"}
    details = {"smoked": "no", "keys": "two", "modifications": "no"}
    fill(frame, **condition)
    press(frame, "Continue")
    expect_step(frame, "Its history")
    fill(frame, **history)
    press(frame, "Continue")
    expect_step(frame, "Keys and other details")
    fill(frame, **details)
    press(frame, "Continue")
    expect_step(frame, "Loan or lease")
    ownership = {"ownership": "finance", "lender": "Honda Financial", "payoff": "4,200"}
    fill(frame, **ownership)
    press(frame, "Save and finish later")
    expect_step(frame, "Save and finish later")
    fill(frame, email=EMAIL)
    frame.locator('input[name="consent_followup"]').check()
    press(frame, "Email me the link")
    expect_step(frame, "Check your inbox")
    link = _link(server, mailbox)
    laptop.close()

    phone = new_shopper_context(browser)
    page = phone.new_page()
    page.goto(link)
    expect_step(page, "Loan or lease")
    expect_answers(page, **ownership)
    press(page, "Back")
    expect_step(page, "Keys and other details")
    expect_answers(page, **details)
    press(page, "Back")
    expect_step(page, "Its history")
    expect_answers(page, **history)
    press(page, "Back")
    expect_step(page, "Mileage and condition")
    expect_answers(page, **condition)
    press(page, "Back")
    expect_step(page, "Your car")
    expect_answers(page, vin="1hgcm 82633a 004352", year="2003", make="Honda", model="Accord")
    for step in ("Mileage and condition", "Its history", "Keys and other details"):
        press(page, "Continue")
        expect_step(page, step)
    press(page, "Continue")
    press(page, "Continue")
    expect_step(page, "When and where")
    fill(page, timeline="this_month", first_name="Sam")
    expect_answers(page, email=EMAIL)
    press(page, "Continue")
    expect_step(page, "Your trade-in")
    expect(page.locator("#trade-vehicle")).to_have_text("2003 Honda Accord EX")
    expect(page.locator("#trade-offer")).to_contain_text("within 4 business hours")
    assert phone.cookies() == []
    phone.close()


@pytest.mark.browser
def test_credit_saved_for_later_and_finished_on_another_device(
    server: Server, mailbox: Mailbox, browser: Browser
) -> None:
    laptop = new_shopper_context(browser)
    frame = _framed(laptop, server, "credit", "About you")
    about = {
        "first_name": "Rosa",
        "last_name": "Delgado",
        "birthdate": "04/30/1988",
        "email": "rosa@example.com",
    }
    fill(frame, **about)
    frame.locator('input[name="consent_followup"]').check()
    press(frame, "Continue")
    expect_step(frame, "Your address")
    address = {"street": "1742 Evergreen Terrace", "city": "Shelbyville", "state": "IL"}
    fill(frame, **address)
    press(frame, "Save and finish later")
    expect_step(frame, "Save and finish later")
    press(frame, "Email me the link")
    expect_step(frame, "Check your inbox")
    link = _link(server, mailbox)
    assert "Evergreen" not in link and "1988" not in link
    laptop.close()

    phone = new_shopper_context(browser)
    page = phone.new_page()
    page.goto(link)
    expect_step(page, "Your address")
    expect_answers(page, **address)  # sealed at rest, back on the page
    fill(page, zip="62704")
    press(page, "Continue")
    expect_step(page, "Your home")
    fill(page, years_at_address="6", housing="rent", housing_payment="1,000")
    press(page, "Continue")
    expect_step(page, "Work and income")
    fill(
        page,
        employment="employed",
        employer="Quimby Logistics",
        years_at_job="4",
        monthly_income="5,000",
    )
    press(page, "Continue")
    expect_step(page, "Your credit")
    fill(page, credit_band="good")
    press(page, "Continue")
    expect_step(page, "Your permission")
    expect(page.locator("#fcra-notice")).to_contain_text("Fair Credit Reporting Act")
    press(page, "I agree")
    expect_step(page, "Your estimate")
    expect(page.locator("#apr-range")).to_have_text("6.99% to 8.99%")
    expect(page.locator("#prequal-payment")).to_have_text("$750.00")
    expect(page.get_by_text("An estimate, not an offer of credit.")).to_be_visible()
    assert phone.cookies() == []
    phone.close()
