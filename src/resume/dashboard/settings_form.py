"""A dealership's settings as the dashboard's forms show them (issue #13, item 1): what a
box is (`Entry`; the sections' boxes are in resume.dashboard.settings_sections), how a stored
value is written in it, and how what an admin typed becomes a stored value again, or a message
saying what is wrong with it.

Entries are named by where their value lives: `dealer.name` is a column of the dealer's row,
`finance.apr_new.good` a key inside its stored settings. The checks that make a value usable
stay in `resume.dealers.checks.check_config`, which `dealer add` and `dealer config` run as
well; what is here only turns text into values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

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
    if entry.kind == "languages":
        return ",".join(value)
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
_LONGEST = {"text": 200, "textarea": 5000, "email": 320, "url": 500}


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


def _languages(entry: Entry, typed: str) -> Any:
    """One of the entry's choices of languages, like "en,es", as the list it stands for."""
    return _choice(entry, typed).split(",")


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


def _url(entry: Entry, typed: str) -> Any:
    # Where it may point is resume.dealers.checks.check_logo's to say: it knows the origins.
    if any(c.isspace() for c in typed):
        raise Problem(f"{entry.label}: a web address has no spaces.")
    return typed


def _date(entry: Entry, typed: str) -> Any:
    if typed and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", typed):
        raise Problem(f"{entry.label}: write a date like 2026-11-01, or leave it empty.")
    return typed


_PARSERS: dict[str, Callable[[Entry, str], Any]] = {
    "url": _url,
    "date": _date,
    "email": _email,
    "number": _number,
    "decimal": _decimal,
    "yesno": _yesno,
    "choice": _choice,
    "languages": _languages,
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


# Colour pairs a shopper reads, and the least contrast each needs (WCAG 2.2, 1.4.3).
CONTRASTS = (
    ("theme.accent_text", "theme.accent", 4.5, "Text on buttons is hard to read on their colour"),
    ("theme.text", "theme.background", 4.5, "Text is hard to read on the background"),
    # Links are written in the accent colour: text, so 4.5 to 1 as well. The focus ring is
    # the accent too (widget.css), so its 3 to 1 (WCAG 2.2, 1.4.11) holds whenever this does.
    ("theme.accent", "theme.background", 4.5, "Links are hard to read on the background"),
)
