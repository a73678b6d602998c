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
from resume.dealers import Dealer
from resume.estimates import Estimate
from resume.fields import CHECKED
from resume.queries.drafts import DraftState

SOURCE = "resume"


def lead(
    *,
    draft: DraftState,
    dealer: Dealer,
    estimate: Estimate | None,
    moment: str,
    resume_url: str,
    resend: bool,
    when: dt.datetime,
) -> bytes:
    """Return the ADF document for a draft, with its XML declaration and ADF version."""
    values = {
        name: " ".join(stored.value.split())
        for name, stored in draft.values.items()
        if stored.valid
    }
    root = ET.Element("adf")
    prospect = ET.SubElement(root, "prospect", status="resend" if resend else "new")
    _text(prospect, "id", draft.id, source=SOURCE, sequence="1")
    _text(prospect, "requestdate", when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    quote = estimate.finance or estimate.lease if estimate else None
    vehicle = ET.SubElement(
        prospect,
        "vehicle",
        interest="lease" if estimate and estimate.lease else "buy",
        status="used" if values.get("condition") == "used" else "new",
    )
    _text(vehicle, "year", values.get("year") or "0")
    _text(vehicle, "make", values.get("make") or "Unknown")
    _text(vehicle, "model", values.get("model") or "Unknown")
    if values.get("stock_number"):
        _text(vehicle, "stock", values["stock_number"])
    if values.get("trim"):
        _text(vehicle, "trim", values["trim"])
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
    name = values.get("first_name")
    _text(contact, "name", name or "Web shopper", part="first" if name else "full")
    if draft.email:
        _text(contact, "email", draft.email, preferredcontact="1")
    if draft.phone:
        _text(contact, "phone", draft.phone, type="cellphone")
    _text(customer, "comments", _comments(draft, moment, resume_url, quote))

    vendor = ET.SubElement(prospect, "vendor")
    _text(vendor, "vendorname", dealer.name)
    vendor_contact = ET.SubElement(vendor, "contact")
    _text(vendor_contact, "name", dealer.name, type="business")
    _text(vendor_contact, "email", dealer.lead_email)

    provider = ET.SubElement(prospect, "provider")
    _text(provider, "name", "resume", type="business")
    _text(provider, "service", "Payment calculator")

    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n{body}\n'.encode()


def _comments(draft: DraftState, moment: str, resume_url: str, quote: object) -> str:
    lines = [f"Moment: {moment.replace('_', ' ')}.", f"Last step: {draft.step}."]
    if quote is None:
        lines.append("The payment estimate is not complete.")
    lines.append(f"Shopper's saved answers: {resume_url}")
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
