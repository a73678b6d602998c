"""A dealership's settings as the dashboard's forms show them (issue #13, item 1): which
entries each section has, how a stored value is written in a box, and how what an admin typed
becomes a stored value again, or a message saying what is wrong with it.

Entries are named by where their value lives: `dealer.name` is a column of the dealer's row,
`finance.apr_new.good` a key inside its stored settings. The checks that make a value usable
stay in `resume.dealers.check_config`, which `dealer add` and `dealer config` run as well; what
is here only turns text into values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from resume.dealers import BANDS, PROVIDERS
from resume.fields import Field, clean


class Problem(Exception):
    """What is wrong with one typed value, in words for the admin."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One box of a settings form."""

    path: str
    label: str
    kind: str = "text"  # text, email, number, decimal, yesno, choice, textarea, colour, ...
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    # The input's width class, so a number is not a page wide.
    width: str = ""

    @property
    def id(self) -> str:
        return "s-" + self.path.replace(".", "-").replace("_", "-")


class Section(msgspec.Struct, frozen=True):
    slug: str
    title: str
    intro: str
    entries: tuple[Entry, ...]


_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_BAND_NAMES = {"excellent": "Excellent", "good": "Good", "fair": "Fair", "rebuilding": "Rebuilding"}
_HOURS_HINT = "Two hours of the day on a 24-hour clock, like 9-20; leave empty if closed."


def _bands(table: str, what: str, hint: str) -> tuple[Entry, ...]:
    return tuple(
        Entry(
            path=f"finance.{table}.{band}",
            label=f"{what}, {_BAND_NAMES[band].lower()} credit",
            kind="decimal",
            hint=hint,
            width="narrow",
        )
        for band in BANDS
    )


SECTIONS: Mapping[str, Section] = {
    s.slug: s
    for s in (
        Section(
            "details",
            "Dealership details",
            "What shoppers and your team see: in the widgets, the emails and the ADF leads.",
            (
                Entry(path="dealer.name", label="Dealership name"),
                Entry(
                    path="dealer.lead_email",
                    label="Lead inbox",
                    kind="email",
                    hint="Alerts and new leads go here.",
                ),
                Entry(path="dealer.address", label="Postal address", kind="textarea"),
                Entry(path="dealer.phone", label="Phone", width="medium"),
                Entry(
                    path="dealer.timezone",
                    label="Timezone",
                    hint="As the tz database names it, like America/Chicago.",
                    width="medium",
                ),
                Entry(
                    path="hours",
                    label="Opening hours, as shoppers read them",
                    hint="Shown in the widgets and emails, like Mon-Sat 9am-8pm, Sun 11am-5pm.",
                ),
                *(
                    Entry(
                        path=f"business_hours.{day}",
                        label=f"Sales team's hours on {name}",
                        kind="hours",
                        hint=_HOURS_HINT if day == "mon" else "",
                        width="narrow",
                    )
                    for day, name in _DAY_NAMES.items()
                ),
            ),
        ),
        Section(
            "finance",
            "Finance defaults",
            "What the payment widget computes with. Press “Show a sample payment” to see what "
            "a shopper would see with the values in the form, before you save them.",
            (
                Entry(
                    path="finance.tax_rate", label="Sales tax, %", kind="decimal", width="narrow"
                ),
                Entry(path="finance.doc_fee", label="Doc fee, $", kind="decimal", width="narrow"),
                Entry(
                    path="finance.trade_reduces_tax",
                    label="The trade-in's value is taken off the taxed amount",
                    kind="yesno",
                    hint="True in most US states; not in California, for one.",
                ),
                Entry(
                    path="finance.terms",
                    label="Finance terms, months",
                    kind="numbers",
                    hint="Separated by commas, like 36, 48, 60, 72, 84.",
                ),
                *_bands("apr_new", "New-car APR %", ""),
                *_bands("apr_used", "Used-car APR %", ""),
                Entry(
                    path="finance.residuals",
                    label="Lease residuals, % of the price by term",
                    kind="pairs",
                    hint="Term: percent, separated by commas, like 24: 64, 36: 58, 48: 50.",
                ),
                *_bands("money_factors", "Lease money factor", "Like 0.00250."),
            ),
        ),
        Section(
            "followup",
            "Follow-up",
            "When a shopper who gave an email and ticked the box has left, and when the "
            "follow-up emails go out. A change applies to the emails scheduled after it.",
            (
                Entry(
                    path="idle_minutes",
                    label="A shopper has left after, minutes",
                    kind="number",
                    hint="Minutes without a save, like 30.",
                    width="narrow",
                ),
                Entry(
                    path="cadence",
                    label="Follow-up emails go out after",
                    kind="delays",
                    hint="Delays after leaving, separated by commas: 45m is 45 minutes, 2h two "
                    "hours, 3d three days. Like 1h, 1d, 3d, 7d, 14d.",
                ),
                Entry(
                    path="sending_hours",
                    label="Emails are sent between",
                    kind="hours",
                    hint="Hours of the day in the dealership's timezone, like 8-20.",
                    width="narrow",
                ),
                Entry(
                    path="response_minutes",
                    label="The team's response target, business minutes",
                    kind="number",
                    hint="From capture to the first call, text or email, like 15.",
                    width="narrow",
                ),
                Entry(
                    path="resume_link_days",
                    label="A resume link works for, days",
                    kind="number",
                    width="narrow",
                ),
                Entry(
                    path="contact_before_result",
                    label="Ask for contact details before showing the payment",
                    kind="yesno",
                    hint="No shows the payment first, then asks where to send it.",
                ),
            ),
        ),
        Section(
            "consent",
            "Consent",
            "The words beside the follow-up box. Shoppers are emailed only after ticking it. "
            "Each consent keeps the words the shopper saw, so new words become a new version "
            "and the old ones stay below with the consents given to them.",
            (
                Entry(
                    path="followup_mode",
                    label="Follow-up emails",
                    kind="choice",
                    choices=(
                        ("ask", "Offer them: a box to tick, never ticked for the shopper"),
                        ("off", "Never: no box and no follow-up; asked-for links, alerts go"),
                    ),
                ),
                Entry(
                    path="followup_consent",
                    label="Words beside the follow-up box",
                    kind="textarea",
                    hint="Leave empty for the widget's own words.",
                ),
            ),
        ),
        Section(
            "credit",
            "Credit and trade-in",
            "The soft-credit widget's written-instructions notice and who pre-qualifies; how "
            "a trade-in is valued.",
            (
                Entry(
                    path="credit.notice",
                    label="Written-instructions notice (FCRA)",
                    kind="textarea",
                    hint="{dealer} is replaced by the dealership's name.",
                ),
                Entry(
                    path="credit.notice_version",
                    label="Notice version",
                    hint="Change it with the words, like fcra-2026-12: each “I agree” stores it.",
                    width="medium",
                ),
                Entry(
                    path="credit.provider",
                    label="Pre-qualification provider",
                    kind="choice",
                    choices=tuple((p, "Built in (no bureau call)") for p in PROVIDERS),
                ),
                Entry(
                    path="trade_in.mode",
                    label="Trade-in offers",
                    kind="choice",
                    choices=(
                        ("appraiser", "An appraiser sends an offer"),
                        ("rules", "An instant range from your rules"),
                    ),
                ),
                Entry(
                    path="trade_in.offer_hours",
                    label="Appraiser's offer promised within, business hours",
                    kind="number",
                    width="narrow",
                ),
                Entry(
                    path="trade_in.rules.values_by_age",
                    label="Instant range: starting value by age",
                    kind="pairs",
                    hint="Age in years: dollars, separated by commas, like 0: 32000, 3: 24000, "
                    "8: 11000. Needed for an instant range.",
                ),
            ),
        ),
        Section(
            "retention",
            "Retention",
            "Drafts untouched this long are deleted with their answers, events and consents, "
            "once an hour.",
            (
                Entry(
                    path="retention_days",
                    label="Keep drafts for, days",
                    kind="number",
                    width="narrow",
                ),
            ),
        ),
        Section(
            "crm",
            "CRM",
            "Leads reach your CRM as ADF/XML, emailed to its lead-intake address.",
            (
                Entry(
                    path="crm_email",
                    label="CRM lead-intake address",
                    kind="email",
                    hint="Leave empty to send no ADF; alerts still reach the lead inbox.",
                ),
                Entry(
                    path="adf_as",
                    label="ADF delivery",
                    kind="choice",
                    choices=(
                        ("attachment", "Attached as application/x-adf+xml"),
                        ("body", "As the email's body"),
                    ),
                ),
            ),
        ),
        Section(
            "branding",
            "Branding",
            "The widgets' colours. Text must stay readable: 4.5 to 1 contrast at least.",
            (
                Entry(path="theme.accent", label="Buttons and links", kind="colour"),
                Entry(path="theme.accent_text", label="Text on buttons", kind="colour"),
                Entry(path="theme.text", label="Text", kind="colour"),
                Entry(path="theme.background", label="Background", kind="colour"),
            ),
        ),
    )
}


def shown(entry: Entry, value: Any) -> str:
    """The stored `value` as the entry's box shows it."""
    if value is None:
        return ""
    if entry.kind == "yesno":
        return "yes" if value else "no"
    if entry.kind == "hours":
        return f"{value[0]}-{value[1]}"
    if entry.kind == "numbers":
        return ", ".join(str(v) for v in value)
    if entry.kind == "delays":
        return ", ".join(_delay(int(v)) for v in value)
    if entry.kind == "pairs":
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items(), key=lambda kv: int(kv[0])))
    return str(value)


def _delay(minutes: int) -> str:
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


_EMAIL = Field(name="email", type="email", label="Email", max_length=320)
_LONGEST = {"text": 200, "textarea": 5000, "email": 320}


def parsed(entry: Entry, typed: str) -> Any:
    """What `typed` stores as, or Problem; None for an empty optional box (a closed day)."""
    typed = typed.strip()
    longest = _LONGEST.get(entry.kind, 400)
    if len(typed) > longest:
        raise Problem(f"{entry.label} must be {longest} characters or fewer.")
    return _PARSERS.get(entry.kind, _text)(entry, typed)


def _text(entry: Entry, typed: str) -> Any:
    if entry.path == "dealer.timezone":
        try:
            ZoneInfo(typed)
        except (ZoneInfoNotFoundError, ValueError):
            raise Problem(f"{typed!r} is not a timezone; write one like America/Chicago.") from None
    return typed


def _email(entry: Entry, typed: str) -> Any:
    if not typed:
        return ""
    checked = clean(_EMAIL, typed)
    if not checked.valid:
        raise Problem(f"{entry.label}: {checked.error}")
    return str(checked.value)


def _number(entry: Entry, typed: str) -> Any:
    if not re.fullmatch(r"[0-9]{1,7}", typed.replace(",", "")):
        raise Problem(f"{entry.label}: enter a whole number, like 30.")
    return int(typed.replace(",", ""))


def _decimal(entry: Entry, typed: str) -> Any:
    text = typed.replace(",", "").replace("$", "").replace("%", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not text or not value.is_finite() or len(text) > 20:
        raise Problem(f"{entry.label}: enter a number, like 6.25.")
    return str(value)


def _yesno(entry: Entry, typed: str) -> Any:
    if typed not in {"yes", "no"}:
        raise Problem(f"{entry.label}: choose yes or no.")
    return typed == "yes"


def _choice(entry: Entry, typed: str) -> Any:
    if typed not in {value for value, _ in entry.choices}:
        raise Problem(f"{entry.label}: choose one of the options.")
    return typed


def _hours(entry: Entry, typed: str) -> Any:
    if not typed and entry.path.startswith("business_hours."):
        return None  # closed that day
    found = re.fullmatch(r"([0-9]{1,2})\s*(?:-|–|to)\s*([0-9]{1,2})", typed)
    if not found:
        raise Problem(f"{entry.label}: write two hours of the day, like 9-20.")
    opens, closes = int(found.group(1)), int(found.group(2))
    if not 0 <= opens < closes <= 24:
        raise Problem(f"{entry.label}: the first hour must come before the second, up to 24.")
    return [opens, closes]


def _numbers(entry: Entry, typed: str) -> Any:
    parts = [p.strip() for p in typed.split(",") if p.strip()]
    if not parts or not all(re.fullmatch(r"[0-9]{1,4}", p) for p in parts):
        raise Problem(f"{entry.label}: write whole numbers separated by commas.")
    return sorted({int(p) for p in parts})


_UNITS = {"m": 1, "min": 1, "h": 60, "d": 1440}


def _delays(entry: Entry, typed: str) -> Any:
    delays = []
    for part in (p.strip().lower() for p in typed.split(",") if p.strip()):
        found = re.fullmatch(r"([0-9]{1,6})\s*(m|min|h|d)?", part)
        if not found:
            raise Problem(f"{entry.label}: {part!r} is not a delay like 45m, 2h or 3d.")
        delays.append(int(found.group(1)) * _UNITS[found.group(2) or "m"])
    if not delays:
        raise Problem(f"{entry.label}: write at least one delay, like 1h.")
    if delays != sorted(delays) or len(set(delays)) != len(delays):
        raise Problem(f"{entry.label}: each delay must be longer than the one before.")
    return delays


def _pairs(entry: Entry, typed: str) -> Any:
    if not typed and entry.path.startswith("trade_in.rules."):
        return None
    pairs: dict[int, str] = {}
    for part in (p.strip() for p in typed.split(",") if p.strip()):
        key, colon, value = part.partition(":")
        number = _decimal(entry, value) if colon else ""
        if not colon or not key.strip().isdigit() or len(key.strip()) > 3:
            raise Problem(f"{entry.label}: write pairs like 36: 58, separated by commas.")
        pairs[int(key)] = number
    if not pairs:
        raise Problem(f"{entry.label}: write at least one pair, like 36: 58.")
    return pairs


def _colour(entry: Entry, typed: str) -> Any:
    text = typed.lower()
    text = text if text.startswith("#") else "#" + text
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not re.fullmatch(r"#[0-9a-f]{6}", text):
        raise Problem(f"{entry.label}: write a colour like #0b5cad.")
    return text


_PARSERS: dict[str, Callable[[Entry, str], Any]] = {
    "email": _email,
    "number": _number,
    "decimal": _decimal,
    "yesno": _yesno,
    "choice": _choice,
    "hours": _hours,
    "numbers": _numbers,
    "delays": _delays,
    "pairs": _pairs,
    "colour": _colour,
}


def contrast(one: str, two: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours, 1 to 21."""

    def luminance(colour: str) -> float:
        channels = []
        for i in (1, 3, 5):
            c = int(colour[i : i + 2], 16) / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Colour pairs a shopper reads, and the least contrast each needs (WCAG 2.2, 1.4.3 and 1.4.11).
CONTRASTS = (
    ("theme.accent_text", "theme.accent", 4.5, "Text on buttons is hard to read on their colour"),
    ("theme.text", "theme.background", 4.5, "Text is hard to read on the background"),
    ("theme.accent", "theme.background", 3.0, "Buttons and links fade into the background"),
)
