"""Field types: turn what a shopper typed into a value, or into a message they understand.

Nothing here raises on bad input: a wrong value is data to store and show again (design
rule 3). Money and percentages are Decimal, never float (rule 10).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

import msgspec
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from resume import i18n
from resume.i18n import _

FieldType = Literal[
    "money",
    "percent",
    "integer",
    "year",
    "text",
    "email",
    "phone",
    "choice",
    "checkbox",
    "vin",
    "birthdate",
    "zip",
]

# Amounts as people type them: "25000", "25,000", "$25,000.50", "25000.5". No exponents, no
# signs, no NaN: "1e309" or "-0" get a message, not a float.
# [0-9], not \d: \d matches other scripts' digits, which Decimal would quietly accept.
_AMOUNT = re.compile(r"^\$?\s*([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?$")
_PERCENT = re.compile(r"^([0-9]{1,3})(\.[0-9]{1,3})?\s*%?$")
_INTEGER = re.compile(r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CHECKED = frozenset({"on", "yes", "1", "true"})


class Choice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: str
    label: str
    hint: str = ""


class Field(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    type: FieldType
    label: str
    hint: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    autocomplete: str = "off"
    inputmode: str = ""
    sensitive: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int = 120
    # Values that come from the dealer's settings, e.g. "terms": the dealer fills `choices`
    # (resume.dealers.for_dealer), and a whole number must then be one of them.
    choices_from: str = ""
    # The iframe URL's parameter that may fill it from the dealer's page (resume.page_vehicle).
    page_param: str = ""
    # Half the width of the step, beside the next half-width field: a compact layout for
    # short boxes, so a step fits its frame on a phone (issue #11, item 2).
    half: bool = False
    # One of a group of boxes of which the kind needs some answered (the trade-in's VIN, or
    # its year, make and model: resume.kinds.trade_in), named by the group: not marked
    # "(optional)", since the step's intro and the kind's messages say what will do.
    either: str = ""


class Cleaned(msgspec.Struct, frozen=True):
    """A field's typed text, its meaning when valid, and its message when not."""

    raw: str
    value: object = None
    error: str | None = None
    # Advice shown beside a valid answer (a VIN that disagrees with the year): not a refusal.
    note: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None


def clean(field: Field, raw: str) -> Cleaned:
    """Check one typed value against its field; never raises for the shopper's input."""
    text = raw.strip()
    if _CONTROL.search(text):
        return Cleaned(raw, error=_("Remove the special characters from this answer."))
    if len(text) > field.max_length:
        return Cleaned(
            raw, error=_("Use {count} characters or fewer.").format(count=field.max_length)
        )
    if field.type == "checkbox":
        checked = text.lower() in CHECKED
        if field.required and not checked:
            return Cleaned(raw, False, _("Tick this box to go on."))
        return Cleaned(raw, checked)
    if not text:
        if field.required:
            return Cleaned(raw, error=_missing(field))
        return Cleaned(raw, None)
    return _CLEANERS[field.type](field, raw, text)


def _in_sentence(label: str) -> str:
    """A field's label as a message names it. English runs it into the sentence in lower
    case ("Enter year."); Spanish names it after a colon, as written ("Falta: Año."),
    because "Escriba año." reads wrongly and an article would need the label's gender."""
    return label.lower() if i18n.current() == "en" else label


def _missing(field: Field) -> str:
    if field.type == "choice":
        # A question ("Has anyone smoked in it?") reads badly after "Choose".
        if field.label.endswith("?"):
            return _("Choose an answer.")
        return _("Choose {label}.").format(label=_in_sentence(field.label))
    return _("Enter {label}.").format(label=_in_sentence(field.label))


def _in_range(field: Field, raw: str, number: Decimal, shown: str) -> Cleaned:
    if field.min is not None and number < field.min:
        least = shown.format(field.min)
        return Cleaned(
            raw,
            error=_("{label} must be at least {amount}.").format(label=field.label, amount=least),
        )
    if field.max is not None and number > field.max:
        most = shown.format(field.max)
        return Cleaned(
            raw, error=_("{label} must be {amount} or less.").format(label=field.label, amount=most)
        )
    return Cleaned(raw, number)


def _money(field: Field, raw: str, text: str) -> Cleaned:
    if text.startswith("-"):
        return Cleaned(raw, error=_("{label} can't be negative.").format(label=field.label))
    if not _AMOUNT.match(text):
        return Cleaned(raw, error=_("Enter an amount in dollars, like 25,000 or 25000.50."))
    number = Decimal(text.lstrip("$").strip().replace(",", ""))
    return _in_range(field, raw, number, "${:,}")


def _percent(field: Field, raw: str, text: str) -> Cleaned:
    if text.startswith("-"):
        return Cleaned(raw, error=_("{label} can't be negative.").format(label=field.label))
    if not _PERCENT.match(text):
        return Cleaned(raw, error=_("Enter a percentage, like 6.9."))
    number = Decimal(text.rstrip("%").strip())
    return _in_range(field, raw, number, "{}%")


def _integer(field: Field, raw: str, text: str) -> Cleaned:
    if text.startswith("-"):
        return Cleaned(raw, error=_("{label} can't be negative.").format(label=field.label))
    if not _INTEGER.match(text):
        return Cleaned(raw, error=_("Enter a whole number, like 36000."))
    number = Decimal(text.replace(",", ""))
    if field.choices and str(number) not in {choice.value for choice in field.choices}:
        offered = [choice.value for choice in field.choices]
        return Cleaned(raw, error=_("Choose one of {listed}.").format(listed=either(offered)))
    return _in_range(field, raw, number, "{:,}")


def either(items: list[str]) -> str:
    """Items as a sentence offers them: "36, 48 or 60"."""
    if len(items) < 2:
        return "".join(items)
    return _("{first} or {last}").format(first=", ".join(items[:-1]), last=items[-1])


def _year(field: Field, raw: str, text: str) -> Cleaned:
    if not re.fullmatch(r"[0-9]{4}", text):
        return Cleaned(raw, error=_("Enter a four-digit year, like 2021."))
    year = int(text)
    latest = dt.date.today().year + 2
    if not 1950 <= year <= latest:
        message = _("Enter a year between {first} and {last}.")
        return Cleaned(raw, error=message.format(first=1950, last=latest))
    return Cleaned(raw, year)


def _text(field: Field, raw: str, text: str) -> Cleaned:
    return Cleaned(raw, " ".join(text.split()))


def _email(field: Field, raw: str, text: str) -> Cleaned:
    try:
        # No DNS: a save must not wait on the network, and tests must not need one.
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return Cleaned(raw, error=_("Enter an email address like name@example.com."))
    return Cleaned(raw, result.normalized)


def _phone(field: Field, raw: str, text: str) -> Cleaned:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return Cleaned(raw, error=_("Enter a phone number with its area code, like 555-201-0123."))
    return Cleaned(raw, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _choice(field: Field, raw: str, text: str) -> Cleaned:
    if text not in {choice.value for choice in field.choices}:
        return Cleaned(
            raw,
            error=_("Choose one of the options for {label}.").format(
                label=_in_sentence(field.label)
            ),
        )
    return Cleaned(raw, text)


def _vin(field: Field, raw: str, text: str) -> Cleaned:
    from resume.calc.vin import check_vin

    found = check_vin(text)
    if isinstance(found, str):
        return Cleaned(raw, error=found)
    return Cleaned(raw, found)


# A birth date as a date input sends it (2001-04-30) or as people type it (04/30/2001).
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_US_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
YOUNGEST, OLDEST = 18, 120


def _birthdate(field: Field, raw: str, text: str) -> Cleaned:
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _US_DATE.match(text):
        month, day, year = (int(part) for part in match.groups())
    else:
        return Cleaned(raw, error=_("Enter your date of birth as MM/DD/YYYY, like 04/30/1988."))
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return Cleaned(raw, error=_("That date doesn't exist. Check the month and the day."))
    today = dt.date.today()
    if born > today:
        return Cleaned(raw, error=_("That date is in the future. Enter your date of birth."))
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < YOUNGEST:
        return Cleaned(
            raw, error=_("You need to be {age} or older to pre-qualify.").format(age=YOUNGEST)
        )
    if age > OLDEST:
        return Cleaned(
            raw,
            error=_("Check the year: that date is more than {years} years ago.").format(
                years=OLDEST
            ),
        )
    return Cleaned(raw, born)


_ZIP = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")


def _zip(field: Field, raw: str, text: str) -> Cleaned:
    if not _ZIP.match(text):
        return Cleaned(raw, error=_("Enter a five-digit ZIP code, like 30301."))
    return Cleaned(raw, text[:5])


_CLEANERS = {
    "money": _money,
    "percent": _percent,
    "integer": _integer,
    "year": _year,
    "text": _text,
    "email": _email,
    "phone": _phone,
    "choice": _choice,
    "vin": _vin,
    "birthdate": _birthdate,
    "zip": _zip,
}
