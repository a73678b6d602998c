"""ADF 1.0 (Auto-lead Data Format) XML, the lead format dealer CRMs accept.

The document validates against shared/adf/adf.dtd (tests check every one we make). What ADF
has no element for (the moment, the step reached, the resume link, the consent) goes in
comments. A later lead for the same draft is `status="resend"` with the same id, so the CRM
updates the lead instead of creating another.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from resume.calc.payment import cents
from resume.calc.vin import Vin, check_vin
from resume.dealers import Dealer
from resume.estimates import Estimate
from resume.fields import CHECKED
from resume.leads import TIMELINES
from resume.queries.drafts import DraftState
from resume.tradein import Appraisal, appraise
from resume.widgets import Widget

SOURCE = "resume"


def lead(
    *,
    draft: DraftState,
    dealer: Dealer,
    widget: Widget,
    estimate: Estimate | None,
    moment: str,
    resume_url: str,
    resend: bool,
    when: dt.datetime,
) -> bytes:
    """Return the ADF document for a draft, with its XML declaration and ADF version."""
    # Sensitive answers (the credit widget's) never leave in an email, ADF included.
    sensitive = {name for name, field in widget.all_fields().items() if field.sensitive}
    values = {
        name: " ".join(stored.value.split())
        for name, stored in draft.values.items()
        if stored.valid and name not in sensitive
    }
    root = ET.Element("adf")
    prospect = ET.SubElement(root, "prospect", status="resend" if resend else "new")
    _text(prospect, "id", draft.id, source=SOURCE, sequence="1")
    _text(prospect, "requestdate", when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    quote = estimate.finance or estimate.lease if estimate else None
    trade = widget.slug == "trade-in"
    appraisal = appraise(widget, dealer, draft.values) if trade else None
    vehicle = ET.SubElement(
        prospect,
        "vehicle",
        interest="trade-in" if trade else "lease" if estimate and estimate.lease else "buy",
        status="used" if trade or values.get("condition") == "used" else "new",
    )
    vin = check_vin(values["vin"]) if values.get("vin") else None
    decoded = vin if isinstance(vin, Vin) else None
    year = values.get("year") or (str(decoded.year) if decoded and decoded.year else "0")
    make = values.get("make") or (decoded.make if decoded and decoded.make else "Unknown")
    _text(vehicle, "year", year)
    _text(vehicle, "make", make)
    _text(vehicle, "model", values.get("model") or "Unknown")
    if decoded is not None:
        _text(vehicle, "vin", decoded.text)
    if values.get("stock_number"):
        _text(vehicle, "stock", values["stock_number"])
    if values.get("trim"):
        _text(vehicle, "trim", values["trim"])
    if trade and values.get("mileage"):
        _text(vehicle, "odometer", values["mileage"].replace(",", ""), units="mi")
    if trade and values.get("grade"):
        _text(vehicle, "condition", values["grade"])
    if quote is not None:
        _text(vehicle, "price", _amount(quote.price), type="quote", currency="USD")
        finance = ET.SubElement(vehicle, "finance")
        _text(finance, "method", "lease" if estimate and estimate.lease else "finance")
        down = Decimal(values.get("down_payment", "0").lstrip("$").replace(",", "") or "0")
        _text(finance, "amount", _amount(down), type="downpayment", limit="exact", currency="USD")
        _text(
            finance,
            "amount",
            _amount(quote.monthly_payment),
            type="monthly",
            limit="exact",
            currency="USD",
        )

    customer = ET.SubElement(prospect, "customer")
    contact = ET.SubElement(customer, "contact", primarycontact="1")
    name, last = values.get("first_name"), values.get("last_name")
    _text(contact, "name", name or "Web shopper", part="first" if name else "full")
    if last:
        _text(contact, "name", last, part="last")
    if draft.email:
        _text(contact, "email", draft.email, preferredcontact="1")
    if draft.phone:
        _text(contact, "phone", draft.phone, type="cellphone")
    timeline = values.get("timeline")
    if timeline:
        frame = ET.SubElement(customer, "timeframe")
        _text(frame, "description", TIMELINES.get(timeline, timeline))
    _text(
        customer,
        "comments",
        _comments(draft, widget, moment, None if sensitive else resume_url, quote, appraisal),
    )

    vendor = ET.SubElement(prospect, "vendor")
    _text(vendor, "vendorname", dealer.name)
    vendor_contact = ET.SubElement(vendor, "contact")
    _text(vendor_contact, "name", dealer.name, type="business")
    _text(vendor_contact, "email", dealer.lead_email)

    provider = ET.SubElement(prospect, "provider")
    _text(provider, "name", "resume", type="business")
    _text(provider, "service", widget.title)

    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n{body}\n'.encode()


def _comments(
    draft: DraftState,
    widget: Widget,
    moment: str,
    resume_url: str | None,
    quote: object,
    appraisal: Appraisal | None,
) -> str:
    lines = [
        f"Moment: {moment.replace('_', ' ')}.",
        f"Widget: {widget.title}.",
        f"Last step: {draft.step}.",
    ]
    if widget.slug == "payment" and quote is None:
        lines.append("The payment estimate is not complete.")
    if appraisal is not None:
        if appraisal.low is not None:
            high = appraisal.high if appraisal.high is not None else appraisal.low
            lines.append(f"Instant range: {_amount(appraisal.low)} to {_amount(high)}.")
        else:
            lines.append(
                f"Appraiser's offer promised within {appraisal.offer_hours} business hours."
            )
        if appraisal.payoff:
            lines.append(f"Owed on the trade-in: {_amount(appraisal.payoff)}.")
    if resume_url:
        lines.append(f"Shopper's saved answers: {resume_url}")
    else:
        lines.append("Personal details are in the dashboard, not in this lead.")
    lines.append("Follow-up consent: " + ("recorded." if _consented(draft) else "not given."))
    return " ".join(lines)


def _consented(draft: DraftState) -> bool:
    stored = draft.values.get("consent_followup")
    return bool(stored and stored.valid and stored.value.strip().lower() in CHECKED)


def _amount(value: Decimal) -> str:
    return f"{cents(value):.2f}"


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element
