"""The trade-in appraisal request: the VIN cross-check of the vehicle step, what the
ownership answers require, the result (an appraiser's offer to come, or an instant range from
the dealer's rule set), and what staff, the CRM and the payment widget are told of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

import msgspec
from babel.dates import format_date

from resume import i18n
from resume.adf import Parts, amount
from resume.calc.vin import Vin, cross_check
from resume.dealers import Dealer, TradeInRules
from resume.definitions import Step, Widget
from resume.fields import Cleaned, clean
from resume.i18n import _, lazy
from resume.kinds.base import (
    Carried,
    Facts,
    Kind,
    Scene,
    choice_text,
    name_lines,
    valid_text,
    vehicle_label,
)
from resume.queries import offers as offers_q
from resume.queries.drafts import DraftState, Stored
from resume.templating import money

VEHICLE_NEEDED = ("year", "make", "model")
# Whole sentences, so each reads right in Spanish too (issue #11, item 6).
VEHICLE_MISSING = {
    "year": lazy("Enter the year, or the VIN."),
    "make": lazy("Enter the make, or the VIN."),
    "model": lazy("Enter the model, or the VIN."),
}


def check_vehicle(results: dict[str, Cleaned]) -> dict[str, Cleaned]:
    """With a good VIN, fill an empty year and make from it and note a disagreement (advice,
    not a refusal); without one, year, make and model are required."""
    vin = results.get("vin")
    decoded = vin.value if vin is not None and isinstance(vin.value, Vin) else None
    checked = dict(results)
    if decoded is None:
        if vin is not None and not vin.valid:
            return checked  # the VIN's own message says what to fix
        for name in VEHICLE_NEEDED:
            typed = checked.get(name)
            if typed is not None and typed.valid and typed.value is None:
                checked[name] = Cleaned(typed.raw, error=str(VEHICLE_MISSING[name]))
        return checked
    year, make = checked.get("year"), checked.get("make")
    if year is not None and year.valid:
        if year.value is None and decoded.year is not None:
            checked["year"] = Cleaned(str(decoded.year), decoded.year)
        elif isinstance(year.value, int) and (advice := cross_check(decoded, year.value, None)):
            checked["year"] = Cleaned(year.raw, year.value, note=advice[0])
    if make is not None and make.valid:
        if make.value is None and decoded.make is not None:
            checked["make"] = Cleaned(decoded.make, decoded.make)
        elif isinstance(make.value, str) and (advice := cross_check(decoded, None, make.value)):
            checked["make"] = Cleaned(make.raw, make.value, note=advice[0])
    return checked


def check_ownership(results: dict[str, Cleaned]) -> dict[str, Cleaned]:
    """A loan needs its payoff and a lease its months left: they decide the equity."""
    checked = dict(results)
    plan = checked.get("ownership")
    needs = {
        "finance": ("payoff", _("Enter the payoff amount (a rough figure is fine).")),
        "lease": ("lease_months_left", _("Enter how many months are left on the lease.")),
    }
    if plan is not None and plan.valid and plan.value in needs:
        name, message = needs[str(plan.value)]
        typed = checked.get(name)
        if typed is not None and typed.valid and typed.value is None:
            checked[name] = Cleaned(typed.raw, error=message)
    return checked


CHECKS = {"vehicle": check_vehicle, "ownership": check_ownership}
TIMELINES = {"this_week": "This week", "this_month": "This month", "curious": "Just curious"}


class Appraisal(msgspec.Struct, frozen=True):
    vehicle: str
    mode: str
    offer_hours: int
    low: Decimal | None = None
    high: Decimal | None = None
    payoff: Decimal = Decimal(0)
    ownership: str = ""
    missing: tuple[str, ...] = ()

    @property
    def equity_low(self) -> Decimal | None:
        return None if self.low is None else self.low - self.payoff

    @property
    def equity_high(self) -> Decimal | None:
        return None if self.high is None else self.high - self.payoff

    @property
    def carried_value(self) -> Decimal | None:
        """The trade value carried into the payment widget: the low end, never promised more."""
        return self.low


def appraise(
    widget: Widget, dealer: Dealer, values: Mapping[str, Stored], *, today: dt.date | None = None
) -> Appraisal:
    """Return the result page's figures from the saved answers."""
    fields = widget.all_fields()
    meaning: dict[str, object] = {}
    for name, field in fields.items():
        stored = values.get(name)
        cleaned = clean(field, stored.value if stored else "")
        if cleaned.valid and cleaned.value is not None:
            meaning[name] = cleaned.value
    vin = meaning.get("vin")
    if isinstance(vin, Vin):
        meaning.setdefault("year", vin.year)
        meaning.setdefault("make", vin.make)
    label = " ".join(
        str(meaning[n]) for n in ("year", "make", "model", "trim") if meaning.get(n)
    ) or _("your car")
    ownership = str(meaning.get("ownership", ""))
    payoff = _money(meaning.get("payoff")) if ownership == "finance" else Decimal(0)
    if ownership == "lease":
        payoff = _money(meaning.get("buyout"))
    settings = dealer.config.trade_in
    result = Appraisal(
        label, settings.mode, settings.offer_hours, payoff=payoff, ownership=ownership
    )
    if settings.mode != "rules" or settings.rules is None:
        return result
    needed = [n for n in ("year", "mileage", "grade", "accident") if meaning.get(n) is None]
    if needed:
        return msgspec.structs.replace(result, missing=tuple(needed))
    low, high = instant_range(settings.rules, meaning, today or dt.date.today())
    return msgspec.structs.replace(result, low=low, high=high)


def instant_range(
    rules: TradeInRules, answers: Mapping[str, object], today: dt.date
) -> tuple[Decimal, Decimal]:
    """The dealer's rule set, applied in order; the range is rounded to $50."""
    year = int(str(answers["year"]))
    age = max(today.year - year, 0)
    ages = sorted(rules.values_by_age)
    value = rules.values_by_age[min((a for a in ages if a >= age), default=ages[-1])]
    expected = rules.miles_per_year * max(age, 1)
    over = Decimal(int(str(answers["mileage"])) - expected)
    adjust = over * rules.per_mile
    value -= min(adjust, value / 2) if adjust > 0 else max(adjust, -value / 10)
    value = value * rules.grade_percent[str(answers["grade"])] / 100
    value = value * (100 - rules.accident_percent[str(answers["accident"])]) / 100
    if answers.get("modifications") == "yes":
        value = value * (100 - rules.modifications_percent) / 100
    if answers.get("warning_lights") == "yes":
        value -= rules.warning_lights
    if answers.get("smoked") == "yes":
        value -= rules.smoked
    if answers.get("keys") == "one":
        value -= rules.one_key
    value = max(value, Decimal(0))
    spread = value * rules.spread_percent / 100
    return _fifty(value - spread), _fifty(value + spread)


def _fifty(amount: Decimal) -> Decimal:
    return (max(amount, Decimal(0)) / 50).quantize(Decimal(1), rounding=ROUND_DOWN) * 50


def _money(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(0)


class TradeIn(Kind):
    slug = "trade-in"
    reads = frozenset(
        {"vin", "year", "make", "model", "trim", "mileage", "grade", "accident", "ownership"}
        | {"payoff", "buyout", "lease_months_left", "timeline", "warning_lights", "smoked"}
        | {"keys", "modifications"}
    )
    moments = {
        "trade_in": "asked for a trade-in appraisal",
        "this_week": "plans to trade this week",
    }
    finish_moment = "trade_in"
    topic = lazy("your trade-in")
    takes_offers = True
    talk_keys = frozenset({"car", "range", "payoff", "mileage", "offer_hours"})

    def check(self, step: str, results: dict[str, Cleaned]) -> dict[str, Cleaned]:
        found = CHECKS.get(step)
        return found(results) if found else results

    def answer_moment(self, results: Mapping[str, Cleaned]) -> str:
        timeline = results.get("timeline")
        if timeline is None or not timeline.valid:
            return ""
        return "this_week" if timeline.value == "this_week" else ""

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        if step.kind != "result":
            return {}
        appraisal = appraise(scene.widget, scene.dealer, draft.values if draft else {})
        return {"appraisal": appraisal, "offer": await offer_for(scene, draft, appraisal)}

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        appraisal = appraise(widget, dealer, draft.values)
        values = draft.values
        lines = [*name_lines(values), ("Trade-in", appraisal.vehicle)]
        for label, field in (("VIN", "vin"), ("Mileage", "mileage"), ("Condition", "grade")):
            # Staff read a choice's label ("Good"), never its stored value (issue #11).
            value = choice_text(widget, values, field)
            if value:
                lines.append((label, value.upper() if field == "vin" else value))
        ownership = choice_text(widget, values, "ownership")
        if ownership:
            lines.append(("Ownership", ownership))
        if appraisal.payoff:
            lines.append(("Owed", f"${appraisal.payoff:,.2f}"))
        timeline = valid_text(values, "timeline")
        if timeline:
            lines.append(("Timeline", TIMELINES.get(timeline, timeline)))
        label = vehicle_label(values)
        return Facts(
            vehicle=label if label != _("vehicle") else _("car"),
            headline=appraisal.vehicle,
            subject="trade-in: " + label,
            lines=tuple(lines),
            adf=Parts(
                interest="trade-in",
                status="used",
                odometer=valid_text(values, "mileage").replace(",", ""),
                condition=valid_text(values, "grade"),
                timeframe=TIMELINES.get(timeline, timeline),
                comments=_adf_comments(appraisal),
            ),
        )

    def talk_values(self, widget: Widget, dealer: Dealer, draft: DraftState) -> dict[str, str]:
        values = super().talk_values(widget, dealer, draft)
        appraisal = appraise(widget, dealer, draft.values)
        hours = _("{hours} business hours").format(hours=appraisal.offer_hours)
        values.update(
            car=appraisal.vehicle,
            range=(
                _("{low} to {high}").format(low=money(appraisal.low), high=money(appraisal.high))
                if appraisal.low is not None and appraisal.high is not None
                else _("an appraiser's offer within {hours}").format(hours=hours)
            ),
            payoff=money(appraisal.payoff) if appraisal.payoff else _("nothing owed"),
            mileage=valid_text(draft.values, "mileage") or _("unknown"),
            offer_hours=hours,
        )
        return values

    async def carry(self, scene: Scene, draft: DraftState) -> Carried:
        """The trade's value (the appraiser's offer, else the low end of the range: never
        more than was promised) and what is owed on it."""
        appraisal = appraise(scene.widget, scene.dealer, draft.values)
        offer = await offer_for(scene, draft, appraisal)
        value = offer.low if offer else appraisal.carried_value
        typed = {}
        if value is not None:
            typed["trade_value"] = amount(value)
        if appraisal.payoff:
            typed["trade_payoff"] = amount(appraisal.payoff)
        return Carried("payment", typed)


class Offer(msgspec.Struct, frozen=True):
    """The appraiser's offer, as the shopper's result page and the dashboard show it."""

    low: Decimal
    high: Decimal
    valid_until: dt.datetime
    note: str
    equity_low: Decimal
    equity_high: Decimal

    @property
    def valid_until_shown(self) -> str:
        """The offer's last day as the shopper reads it: November 5, 2026 (5 de noviembre de
        2026 in Spanish)."""
        return format_date(self.valid_until, format="long", locale=i18n.LOCALES[i18n.current()])


async def offer_for(scene: Scene, draft: DraftState | None, appraisal: Appraisal) -> Offer | None:
    """The newest offer staff made for this draft, while it is valid."""
    if draft is None:
        return None
    async with scene.db.read() as conn:
        found = await offers_q.latest_offer(conn, draft.id)
    if found is None or found.valid_until <= dt.datetime.now(dt.UTC):
        return None
    low, high = found.low, found.high
    return Offer(
        low=low,
        high=high,
        valid_until=found.valid_until,
        note=found.note or "",
        equity_low=low - appraisal.payoff,
        equity_high=high - appraisal.payoff,
    )


def _adf_comments(appraisal: Appraisal) -> tuple[str, ...]:
    if appraisal.low is not None:
        high = appraisal.high if appraisal.high is not None else appraisal.low
        lines = [f"Instant range: {amount(appraisal.low)} to {amount(high)}."]
    else:
        lines = [f"Appraiser's offer promised within {appraisal.offer_hours} business hours."]
    if appraisal.payoff:
        lines.append(f"Owed on the trade-in: {amount(appraisal.payoff)}.")
    return tuple(lines)


KIND = TradeIn()
