"""A dealer (one rooftop, the tenant) and the settings it chooses for its widgets.

The settings are checked before they are stored (resume.dealers.checks), by `dealer add`,
`dealer config` and the settings pages alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from resume import notices
from resume.logos import logo_path
from resume.notices import FCRA_NOTICE

BANDS = ("excellent", "good", "fair", "rebuilding")
# Pre-qualification providers that exist (resume.calc.prequal.provider_for).
PROVIDERS = ("builtin",)
# The statuses a lead can stay in (resume.leads.STATUSES but sold and lost, which end it),
# each of which may have a limit (DealerConfig.status_limits). Named here, not imported:
# resume.leads imports this module.
OPEN_STATUSES = (
    "new",
    "attempting",
    "contacted",
    "appointment_set",
    "appointment_confirmed",
    "shown",
    "no_show",
)


def _d(value: str) -> Decimal:
    return Decimal(value)


class Finance(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Finance defaults the payment widget computes with."""

    tax_rate: Decimal = _d("6.25")
    doc_fee: Decimal = _d("499")
    # Most US states tax the price less the trade-in; a few do not (e.g. California).
    trade_reduces_tax: bool = True
    apr_new: dict[str, Decimal] = msgspec.field(
        default_factory=lambda: {
            "excellent": _d("5.49"),
            "good": _d("6.99"),
            "fair": _d("10.49"),
            "rebuilding": _d("15.99"),
        }
    )
    apr_used: dict[str, Decimal] = msgspec.field(
        default_factory=lambda: {
            "excellent": _d("6.99"),
            "good": _d("8.99"),
            "fair": _d("12.99"),
            "rebuilding": _d("18.99"),
        }
    )
    terms: tuple[int, ...] = (36, 48, 60, 72, 84)
    # Residual percent of the price by lease term, and money factor by credit band.
    residuals: dict[int, Decimal] = msgspec.field(
        default_factory=lambda: {24: _d("64"), 36: _d("58"), 39: _d("56"), 48: _d("50")}
    )
    money_factors: dict[str, Decimal] = msgspec.field(
        default_factory=lambda: {
            "excellent": _d("0.00210"),
            "good": _d("0.00260"),
            "fair": _d("0.00340"),
            "rebuilding": _d("0.00450"),
        }
    )

    def offered_terms(self) -> tuple[int, ...]:
        """Every term the dealer offers: finance terms and lease terms together."""
        return tuple(sorted(set(self.terms) | set(self.residuals)))

    def apr(self, band: str, condition: str) -> Decimal:
        table = self.apr_used if condition == "used" else self.apr_new
        return table[band]

    def residual(self, term: int) -> Decimal:
        """Return the residual percent for `term`, interpolated between the dealer's terms."""
        known = sorted(self.residuals)
        if term <= known[0]:
            return self.residuals[known[0]]
        if term >= known[-1]:
            return self.residuals[known[-1]]
        lower = max(t for t in known if t <= term)
        upper = min(t for t in known if t >= term)
        if lower == upper:
            return self.residuals[lower]
        share = Decimal(term - lower) / Decimal(upper - lower)
        low, high = self.residuals[lower], self.residuals[upper]
        return (low + (high - low) * share).quantize(Decimal("0.01"))


class TradeInRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A dealer's own rule set for an instant trade-in range (resume.kinds.trade_in). Nothing here
    calls a valuation service; a dealer that wants one plugs a provider in instead."""

    # Starting value in dollars by the car's age in years; older than the last: the last.
    values_by_age: dict[int, Decimal]
    miles_per_year: int = 12_000
    # Dollars off per mile above the expected mileage (and on per mile below, up to half).
    per_mile: Decimal = _d("0.08")
    grade_percent: dict[str, Decimal] = msgspec.field(
        default_factory=lambda: {
            "excellent": _d("100"),
            "good": _d("90"),
            "fair": _d("75"),
            "poor": _d("50"),
        }
    )
    accident_percent: dict[str, Decimal] = msgspec.field(
        default_factory=lambda: {"none": _d("0"), "minor": _d("5"), "major": _d("20")}
    )
    warning_lights: Decimal = _d("750")
    smoked: Decimal = _d("500")
    one_key: Decimal = _d("250")
    modifications_percent: Decimal = _d("5")
    # The range shown: the value less and plus this percent.
    spread_percent: Decimal = _d("8")


class TradeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # "appraiser": a person sends an offer within offer_hours business hours (the default);
    # "rules": an instant range from `rules`.
    mode: Literal["appraiser", "rules"] = "appraiser"
    offer_hours: int = 4
    rules: TradeInRules | None = None


class Credit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The soft-credit widget: the written-instructions notice and who pre-qualifies."""

    # Stored in each consent; shoppers never see it, only the notice's date (issue #11).
    notice_version: str = "fcra-2026-11"
    # {dealer} is replaced by the dealer's name; the stored text is the text shown.
    notice: str = FCRA_NOTICE
    provider: str = "builtin"
    # The date the notice's words took effect (YYYY-MM-DD), shown to shoppers as "Version of
    # November 2026". Empty: read from a version that ends in its year and month.
    notice_date: str = ""

    # The dealer's own notice in Spanish, when it wrote its own (`notice`); without it a
    # Spanish shopper reads the English notice, told so (issue #11, item 6).
    notice_es: str = ""

    def notice_in(self, lang: str) -> notices.Shown:
        """The notice a shopper speaking `lang` is shown, and its version."""
        return notices.shown(self.notice, self.notice_es, self.notice_version, lang)

    def notice_label(self) -> str:
        """The notice's version as shoppers read it: "Version of November 2026", or ""."""
        return notices.dated(self.notice_date, self.notice_version)


class Theme(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    accent: str = "#0b5cad"
    accent_text: str = "#ffffff"
    text: str = "#1d2329"
    background: str = "#ffffff"
    # An image on one of the dealer's own origins, shown in the widgets' header; "" for none.
    logo: str = ""
    # A CSS font-family list, like "Inter, Arial, sans-serif"; "" for the system's font.
    font: str = ""


class DealerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    finance: Finance = msgspec.field(default_factory=Finance)
    theme: Theme = msgspec.field(default_factory=Theme)
    # Ask for contact before showing the payment; the default shows the result first.
    contact_before_result: bool = False
    resume_link_days: int = 30
    hours: str = "Mon-Sat 9am-8pm, Sun 11am-5pm"
    # Follow-up (issue #4): a draft with contact and consent, not completed, unsaved for
    # idle_minutes has exited; touches go out after these delays (minutes), only between
    # sending_hours in the dealer's timezone. The version is stored on every touch.
    # Where ADF leads go (the CRM's lead-intake address), and how: the XML as the body, or
    # attached as application/x-adf+xml. Empty: no ADF, alerts still go to the lead inbox.
    crm_email: str = ""
    adf_as: Literal["body", "attachment"] = "attachment"
    idle_minutes: int = 30
    cadence: tuple[int, ...] = (60, 1440, 4320, 10080, 20160)
    cadence_version: str = "default-2026-11"
    sending_hours: tuple[int, int] = (8, 20)
    trade_in: TradeIn = msgspec.field(default_factory=TradeIn)
    credit: Credit = msgspec.field(default_factory=Credit)
    # Drafts untouched for this many days are deleted with their answers and events
    # (`resume purge`, and the worker once an hour).
    retention_days: int = 365
    # When the sales team is there, by day, as (opening hour, closing hour) in the dealer's
    # timezone; a day left out is closed. The response clock counts these hours only.
    business_hours: dict[str, tuple[int, int]] = msgspec.field(
        default_factory=lambda: {
            **{day: (9, 20) for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "sun": (11, 17),
        }
    )
    # The team's target from capture to the first human attempt, in business minutes.
    response_minutes: int = 60
    # The words beside the follow-up box, in place of the widget's own; "" keeps the
    # widget's. A consent stores the words shown, so new words are a new version (issue #13).
    followup_consent: str = ""
    # The same in Spanish; without it a Spanish shopper reads `followup_consent` (issue #11).
    followup_consent_es: str = ""
    # "ask": the box is shown, and only a shopper who ticks it gets follow-up emails; "off":
    # no box and no follow-up (a link the shopper asks for still goes; so do staff alerts).
    followup_mode: Literal["ask", "off"] = "ask"
    # The languages the widgets are offered in, the first for a shopper whose browser asks
    # for none of them (resume.i18n, issue #11, item 6).
    languages: tuple[str, ...] = ("en", "es")
    # How long, in hours on the calendar, a lead may stay in each open status before the
    # team page lists it as stuck (issue #10, item 3); a status left out has no limit.
    status_limits: dict[str, int] = msgspec.field(
        default_factory=lambda: {
            "new": 24,
            "attempting": 72,
            "contacted": 168,
            "appointment_set": 168,
            "appointment_confirmed": 168,
            "shown": 72,
            "no_show": 48,
        }
    )

    def flags(self) -> frozenset[str]:
        return frozenset({"contact_before_result"} if self.contact_before_result else ())


class Dealer(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name: str
    lead_email: str
    address: str
    phone: str
    timezone: str
    origins: tuple[str, ...]
    config: DealerConfig
    # The SHA-256 of the logo file we keep for it (resume.logos), "" for none.
    logo_file: str = ""

    def logo(self) -> str:
        """The logo's address: the file we keep, on our own origin, else the address on one
        of the dealer's origins (checked when set; an origin can be removed since); or ""."""
        if self.logo_file:
            return logo_path(self.slug, self.logo_file)
        url = self.config.theme.logo
        return url if url and logo_origin(url) in self.origins else ""


def logo_origin(url: str) -> str:
    """The origin an image address is on ("" if it has none), as check_origin writes it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{parts.hostname}{suffix}"
