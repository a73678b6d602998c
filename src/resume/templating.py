"""The Jinja2 environments: autoescaped HTML pages and emails, and plain-text emails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from resume import i18n
from resume.calc.payment import cents
from resume.resources import data_dir
from resume.visible import visible


def money(value: Decimal | int | None) -> str:
    """Format dollars for people: $1,234.50 (half-up to the cent, rule 10)."""
    if value is None:
        return ""
    amount = cents(Decimal(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def listed(value: Decimal | int | None) -> str:
    """A price as the dealer's listing shows it: $34,250, with cents only if it has some."""
    shown = money(value)
    return shown.removesuffix(".00")


def when(value: dt.datetime | None, zone: ZoneInfo | str = "UTC") -> str:
    """A moment as staff read it, in the dealership's time: Tue 1 Dec, 2:30 PM."""
    if value is None:
        return ""
    local = value.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b}, {local.hour % 12 or 12}:{local:%M} {local:%p}"


def day(value: dt.datetime | None, zone: ZoneInfo | str = "UTC") -> str:
    """A day as a shopper reads it, in their language and the dealership's time:
    "December 5, 2026", "5 de diciembre de 2026"."""
    if value is None:
        return ""
    local = value.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    return format_date(local.date(), "long", locale=i18n.LOCALES.get(i18n.current(), "en_US"))


def duration(minutes: int | float) -> str:
    """A length of time, briefly: 45 min, 3 h 5 min, 2 d."""
    minutes = int(minutes)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes // (24 * 60)} d"


def age(value: dt.datetime | None) -> str:
    """How long ago: 12 min, 3 h, 2 d."""
    if value is None:
        return ""
    return duration(max(0, (dt.datetime.now(dt.UTC) - value).total_seconds() // 60))


def tel(phone: str, region: str = "US") -> str:
    """A `tel:` address for a dealer's phone as written, "" if it isn't a number."""
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def map_url(address: str) -> str:
    """A map search for a street address (it opens in a new tab: maps refuse to be framed)."""
    return "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": address})


def _shown(value: object) -> object:
    return visible(value) if isinstance(value, str) else value


@cache
def environment(extra: tuple[Path, ...] = (), *, for_staff: bool = False) -> Environment:
    """Return the shared environment; templates are autoescaped except *.txt. Folders in
    `extra` are searched first (a widget added from outside the package, resume.catalog).

    `for_staff` is the environment of email and the dashboard: every value it prints has its
    hiding characters written out (resume.visible). The widgets' own pages show what was typed.
    """
    env = Environment(
        finalize=_shown if for_staff else None,
        loader=FileSystemLoader([str(path) for path in extra] + [str(data_dir() / "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # `{% trans %}` and `_()` speak the language of the moment (resume.i18n).
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = i18n.current
    env.globals["language_names"] = i18n.LANGUAGES
    env.filters["money"] = money
    env.filters["listed"] = listed
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["duration"] = duration
    env.filters["age"] = age
    env.filters["tel"] = tel
    env.filters["map_url"] = map_url
    return env
