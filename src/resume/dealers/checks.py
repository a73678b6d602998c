"""What a dealer's settings must be before they are stored: check_config for the whole,
and a check for each thing typed on its own (an origin, a logo, a font, a slug, a name).

Each says what is wrong in words a dealer can act on (ConfigError), for the command line
and the settings pages alike."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

from resume import i18n
from resume.dealers import BANDS, OPEN_STATUSES, PROVIDERS, DealerConfig, TradeInRules, logo_origin
from resume.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
# A CSS font-family list: family names, bare or in balanced quotes, separated by commas.
# It is written into the stylesheet, so nothing that could end the declaration or the rule
# (`;`, `{`, `}`), fetch anything (`url(`, `@import`: no parentheses or `@` at all), or
# escape (backslashes) gets through.
_FAMILY = (
    r"(?:[A-Za-z][A-Za-z0-9 -]*[A-Za-z0-9]|[A-Za-z]"  # bare: Source Sans 3, sans-serif
    r"""|"[A-Za-z0-9 ._-]+"|'[A-Za-z0-9 ._-]+')"""  # quoted: "Helvetica Neue"
)
_FONT = re.compile(rf"^\s*{_FAMILY}\s*(?:,\s*{_FAMILY}\s*)*$")
LOGO_LONGEST = 500
FONT_LONGEST = 200
STATUS_LIMIT_LONGEST = 24 * 365


def check_logo(url: str, origins: tuple[str, ...]) -> str:
    """Return a logo address that is an http(s) image on one of `origins`, or say why not."""
    if len(url) > LOGO_LONGEST:
        raise ConfigError(f"the logo's address must be {LOGO_LONGEST} characters or fewer")
    origin = logo_origin(url)
    parts = urlsplit(url)
    if not origin or parts.username is not None or parts.password is not None:
        raise ConfigError(
            "the logo must be an image address starting https:// (or http://) on your "
            "website, like https://www.example-motors.com/logo.png"
        )
    # Only printable ASCII: a space, a quote or a control character has no place in a URL,
    # and the address is written into a page and a Content-Security-Policy header.
    if not url.isascii() or any(not 33 <= ord(c) < 127 for c in url) or '"' in url:
        raise ConfigError("the logo's address must be a plain web address, without spaces")
    if origin not in origins:
        allowed = ", ".join(origins) if origins else "none yet: add your website first"
        raise ConfigError(
            f"the logo must be on one of your embed origins ({allowed}); {origin} is not one"
        )
    return url


def check_font(font: str) -> str:
    """Return a CSS font-family list that is only family names, or say why not."""
    if len(font) > FONT_LONGEST:
        raise ConfigError(f"the font stack must be {FONT_LONGEST} characters or fewer")
    bad = next((c for c in font if c in ";{}()\\@<>/"), "")
    if bad:
        raise ConfigError(f"the font stack can't contain {bad!r}: write font names only")
    # CSS-wide keywords are not font names: `font: 16px inherit` would drop the whole rule.
    keywords = {"inherit", "initial", "unset", "revert", "revert-layer", "default"}
    if keywords & {name.strip().lower() for name in font.split(",")}:
        raise ConfigError("the font stack names fonts, not CSS keywords like inherit")
    if not _FONT.match(font):
        raise ConfigError(
            "the font stack must be font names separated by commas, like "
            '"Source Sans 3", Arial, sans-serif (letters, digits, spaces and dashes; quotes '
            "in pairs; no ; { } ( ) or \\)"
        )
    return font


def check_config(config: DealerConfig, origins: tuple[str, ...] | None = None) -> DealerConfig:
    """Refuse finance tables or colours that would break a page or a calculation.

    With the dealer's `origins`, a logo must be on one of them; without (settings read back
    from the database), only its form is checked, and Dealer.logo hides one whose origin has
    gone since."""
    finance = config.finance
    for table in (finance.apr_new, finance.apr_used, finance.money_factors):
        missing = set(BANDS) - set(table)
        if missing:
            raise ConfigError(f"finance table lacks credit bands: {', '.join(sorted(missing))}")
    if not finance.residuals or not finance.terms:
        raise ConfigError("finance needs at least one term and one lease residual")
    _between("tax rate", finance.tax_rate, "0", "25")
    _between("doc fee", finance.doc_fee, "0", "5000")
    for band in BANDS:
        _between(f"new-car APR for {band} credit", finance.apr_new[band], "0", "40")
        _between(f"used-car APR for {band} credit", finance.apr_used[band], "0", "40")
        _between(f"money factor for {band} credit", finance.money_factors[band], "0", "0.01")
    for term, residual in finance.residuals.items():
        if not 6 <= term <= 120:
            raise ConfigError(f"lease term {term} must be between 6 and 120 months")
        _between(f"residual for {term} months", residual, "1", "100")
    if any(not 6 <= term <= 120 for term in finance.terms):
        raise ConfigError("finance terms must be between 6 and 120 months")
    for name in ("accent", "accent_text", "text", "background"):
        if not _COLOUR.match(getattr(config.theme, name)):
            raise ConfigError(f"theme {name} must be a colour like #0b5cad")
    theme = config.theme
    if theme.logo:
        check_logo(theme.logo, origins if origins is not None else (logo_origin(theme.logo),))
    if theme.font:
        check_font(theme.font)
    if not config.languages or any(lang not in i18n.LANGUAGES for lang in config.languages):
        raise ConfigError(f"languages must be some of {', '.join(i18n.LANGUAGES)}, like en,es")
    if len(set(config.languages)) != len(config.languages):
        raise ConfigError("languages name each language once")
    start, end = config.sending_hours
    if not 0 <= start < end <= 24:
        raise ConfigError("sending hours must be two hours of the day, like 8 and 20")
    if not config.cadence or any(not 1 <= delay <= 60 * 24 * 90 for delay in config.cadence):
        raise ConfigError("the cadence needs delays between 1 minute and 90 days")
    if not 30 <= config.retention_days <= 3650:
        raise ConfigError("retention must be between 30 and 3650 days")
    if not 1 <= config.trade_in.offer_hours <= 72:
        raise ConfigError("the trade-in offer must be promised within 1 to 72 business hours")
    if config.trade_in.mode == "rules" and not config.trade_in.rules:
        raise ConfigError("an instant trade-in range needs trade_in.rules.values_by_age")
    if config.trade_in.rules is not None:
        _check_rules(config.trade_in.rules)
    credit = config.credit
    if not credit.notice.strip() or len(credit.notice) > 5000:
        raise ConfigError("the credit notice must be between 1 and 5000 characters")
    if not _VERSION.match(credit.notice_version):
        raise ConfigError(
            "the credit notice version must be 1 to 32 letters, digits, dots, dashes or "
            "underscores, like fcra-2026-11"
        )
    if credit.notice_date and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", credit.notice_date):
        raise ConfigError("the notice date must be a date like 2026-11-01")
    if credit.notice_date:
        try:
            dt.date.fromisoformat(credit.notice_date)
        except ValueError:
            raise ConfigError(
                f"the notice date {credit.notice_date} is not a date; write one like 2026-11-01"
            ) from None
    if credit.provider not in PROVIDERS:
        raise ConfigError(f"credit provider must be one of: {', '.join(PROVIDERS)}")
    if not 1 <= config.resume_link_days <= 365:
        raise ConfigError("resume links must last between 1 and 365 days")
    for day, (opens, closes) in config.business_hours.items():
        if day not in DAYS or not 0 <= opens < closes <= 24:
            raise ConfigError(
                f"business hours for {day!r} must be a day (mon to sun) and two hours of the "
                "day, like [9, 20]"
            )
    if not 5 <= config.response_minutes <= 60 * 24 * 7:
        raise ConfigError("the response target must be between 5 minutes and a week")
    if len(config.followup_consent) > 500:
        raise ConfigError("the follow-up consent must be 500 characters or fewer")
    for status, hours in config.status_limits.items():
        if status not in OPEN_STATUSES:
            raise ConfigError(
                f"a status limit is for a status a lead stays in ({', '.join(OPEN_STATUSES)}); "
                f"{status!r} is not one"
            )
        if not 1 <= hours <= STATUS_LIMIT_LONGEST:
            raise ConfigError(
                f"the limit for {status} must be between 1 hour and {STATUS_LIMIT_LONGEST} "
                f"hours (a year), not {hours}"
            )
    return config


def _check_rules(rules: TradeInRules) -> None:
    if not rules.values_by_age:
        raise ConfigError("trade_in.rules.values_by_age needs at least one age and value")
    for age, value in rules.values_by_age.items():
        if not 0 <= age <= 60:
            raise ConfigError(f"trade-in value age {age} must be between 0 and 60 years")
        _between(f"trade-in value at {age} years", value, "0", "1000000")
    for name, table, keys in (
        ("grade_percent", rules.grade_percent, ("excellent", "good", "fair", "poor")),
        ("accident_percent", rules.accident_percent, ("none", "minor", "major")),
    ):
        missing = set(keys) - set(table)
        if missing:
            raise ConfigError(f"trade_in.rules.{name} lacks {', '.join(sorted(missing))}")
        for key in keys:
            _between(f"trade_in.rules.{name}.{key}", table[key], "0", "100")
    if not 1_000 <= rules.miles_per_year <= 100_000:
        raise ConfigError("trade_in.rules.miles_per_year must be between 1,000 and 100,000")
    for what, amount, high in (
        ("per_mile", rules.per_mile, "10"),
        ("warning_lights", rules.warning_lights, "100000"),
        ("smoked", rules.smoked, "100000"),
        ("one_key", rules.one_key, "100000"),
        ("modifications_percent", rules.modifications_percent, "100"),
        ("spread_percent", rules.spread_percent, "50"),
    ):
        _between(f"trade_in.rules.{what}", amount, "0", high)


def _between(what: str, value: Decimal, low: str, high: str) -> None:
    # is_finite first: comparing a NaN Decimal raises instead of answering.
    if not value.is_finite() or not Decimal(low) <= value <= Decimal(high):
        raise ConfigError(f"{what} {value} must be between {low} and {high}")


def check_origin(origin: str) -> str:
    """Return an embed origin as CSP needs it: scheme://host[:port], no path, never '*'."""
    origin = origin.strip().rstrip("/").lower()
    # A host name is at most 253 characters (RFC 1035), and each origin goes in a header.
    found = _ORIGIN.match(origin) if len(origin) <= 270 else None
    port = found.group(1) if found else None
    if not found or (port and not 0 < int(port[1:]) <= 65535):
        raise ConfigError(f"{origin!r} is not an origin like https://www.example-motors.com")
    return origin


def check_text(what: str, value: str, longest: int, *, required: bool = True) -> str:
    """Return a dealer's name, address or phone trimmed, or say what is wrong with it."""
    value = " ".join(value.split()) if "\n" not in value else value.strip()
    if required and not value:
        raise ConfigError(f"the {what} can't be empty")
    if len(value) > longest:
        raise ConfigError(f"the {what} must be {longest} characters or fewer")
    return value


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise ConfigError(f"{slug!r}: use lower-case letters, digits and dashes")
    return slug
