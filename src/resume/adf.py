"""ADF 1.0 (Auto-lead Data Format) XML, the lead format dealer CRMs accept.

The document validates against shared/adf/adf.dtd (tests check every one we make). What ADF
has no element for (the moment, the step reached, the resume link, the consent) goes in
comments. A later lead for the same draft is `status="resend"` with the same id, so the CRM
updates the lead instead of creating another.

What is the same for every widget (the customer, the vehicle's name, the vendor) is built
here; what a widget adds (its interest, a quote, a trade-in's odometer, its own comment lines)
comes from its kind as `Parts`.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal

import msgspec

from resume import i18n
from resume.calc.payment import cents
from resume.calc.vin import Vin, check_vin
from resume.consent import follows_up
from resume.dealers import Dealer
from resume.definitions import Widget
from resume.queries.drafts import DraftState
from resume.visible import visible

SOURCE = "resume"


class Quote(msgspec.Struct, frozen=True):
    """A payment the shopper worked out: its price, method and monthly amount."""

    price: Decimal
    method: str  # finance or lease
    down_payment: Decimal
    monthly: Decimal


class Parts(msgspec.Struct, frozen=True):
    """What a widget's kind adds to its lead."""

    interest: str = "buy"  # buy, lease or trade-in
    # "used" or "new"; "" takes the shopper's new-or-used answer.
    status: str = ""
    odometer: str = ""
    condition: str = ""
    quote: Quote | None = None
    timeframe: str = ""
    comments: tuple[str, ...] = ()


def answers(draft: DraftState, widget: Widget) -> dict[str, str]:
    """The draft's valid answers as single-line text, without the sensitive ones: those never
    leave in an email, an ADF lead included."""
    sensitive = widget.sensitive()
    return {
        name: " ".join(stored.value.split())
        for name, stored in draft.values.items()
        if stored.valid and name not in sensitive
    }


def lead(
    *,
    draft: DraftState,
    dealer: Dealer,
    widget: Widget,
    parts: Parts,
    moment: str,
    resume_url: str,
    resend: bool,
    when: dt.datetime,
) -> bytes:
    """Return the ADF document for a draft, with its XML declaration and ADF version."""
    values = answers(draft, widget)
    root = ET.Element("adf")
    prospect = ET.SubElement(root, "prospect", status="resend" if resend else "new")
    _text(prospect, "id", draft.id, source=SOURCE, sequence="1")
    _text(prospect, "requestdate", when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _vehicle(prospect, values, parts)

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
    if parts.timeframe:
        frame = ET.SubElement(customer, "timeframe")
        _text(frame, "description", parts.timeframe)
    private = bool(widget.sensitive())
    _text(
        customer,
        "comments",
        _comments(draft, widget, moment, None if private else resume_url, parts),
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


def _vehicle(prospect: ET.Element, values: Mapping[str, str], parts: Parts) -> None:
    status = parts.status or ("used" if values.get("condition") == "used" else "new")
    vehicle = ET.SubElement(prospect, "vehicle", interest=parts.interest, status=status)
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
    if parts.odometer:
        _text(vehicle, "odometer", parts.odometer, units="mi")
    if parts.condition:
        _text(vehicle, "condition", parts.condition)
    quote = parts.quote
    if quote is not None:
        _text(vehicle, "price", amount(quote.price), type="quote", currency="USD")
        finance = ET.SubElement(vehicle, "finance")
        _text(finance, "method", quote.method)
        _text(
            finance,
            "amount",
            amount(quote.down_payment),
            type="downpayment",
            limit="exact",
            currency="USD",
        )
        _text(
            finance, "amount", amount(quote.monthly), type="monthly", limit="exact", currency="USD"
        )


def _comments(
    draft: DraftState, widget: Widget, moment: str, resume_url: str | None, parts: Parts
) -> str:
    # The step as the shopper saw it titled, not its name in the TOML (issue #11, item 4).
    step = next((s.title for s in widget.steps if s.name == draft.step), draft.step)
    lines = [
        f"Moment: {moment.replace('_', ' ')}.",
        f"Widget: {widget.title}.",
        f"Last step: {step}.",
        *parts.comments,
    ]
    if draft.lang != i18n.DEFAULT:
        # The call is best made in the language the shopper chose (issue #11, item 6).
        lines.append(f"Language: {i18n.IN_ENGLISH.get(draft.lang, draft.lang)}.")
    if resume_url:
        lines.append(f"Shopper's saved answers: {resume_url}")
    else:
        lines.append("Personal details are in the dashboard, not in this lead.")
    lines.append(
        "Follow-up consent: " + ("recorded." if follows_up(draft.values) else "not given.")
    )
    return " ".join(lines)


def amount(value: Decimal) -> str:
    """Dollars as ADF writes them: 1234.50."""
    return f"{cents(value):.2f}"


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    # A CRM shows these to staff: nothing typed may hide or reorder what they read.
    element.text = visible(text)
    return element
