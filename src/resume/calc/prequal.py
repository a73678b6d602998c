"""Soft-credit pre-qualification: what a shopper could likely borrow, before anyone pulls credit.

A provider turns an `Applicant` and the dealer's `Finance` tables into a `Prequal`: an APR
range, an affordable monthly payment, the loan that payment supports, and plain-English
reasons shown to the shopper. Or it answers "refer": we can't estimate, and a person calls.

A real bureau provider (Experian, Equifax, TransUnion, or an aggregator in front of them)
would implement the same `Provider` protocol over the bureau's soft-pull API: it sends the
shopper's legal name, address, date of birth and the id of the stored consent record (FCRA
needs the shopper's written instruction before even a soft pull), and gets back a tier or
score band and, with some vendors, lender offers (APR, term, amount). A soft pull does not
affect the shopper's score. No such provider exists yet.

The built-in provider here runs no credit check: it does pure arithmetic on what the shopper
told us and the dealer's own rate tables. Nothing in this module calls the internet.
"""

from __future__ import annotations

from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    localcontext,
)
from typing import Protocol

import msgspec

from resume.dealers import BANDS, Finance
from resume.i18n import _, lazy

# The bands as a reason names them ("for good credit"): shoppers never read a stored value.
BAND_WORDS = {
    "excellent": lazy("excellent"),
    "good": lazy("good"),
    "fair": lazy("fair"),
    "rebuilding": lazy("rebuilding"),
}
EMPLOYMENT = ("employed", "self_employed", "retired", "student", "other", "unemployed")

# A fresh context, not a copy of the caller's: their precision, rounding or traps must not leak in.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero])
_CENT = Decimal("0.01")
_DOLLAR = Decimal(1)
_HUNDRED = Decimal(100)

# Rules of thumb for the built-in estimate. Auto lenders commonly cap the car payment at
# 10-20 % of gross monthly income (payment-to-income, PTI) and all monthly debt, housing
# included, at 43-50 % (debt-to-income, DTI). We take roughly the middle of each range.
PAYMENT_TO_INCOME = Decimal(15)  # percent of gross monthly income
DEBT_TO_INCOME = Decimal(45)  # percent of gross monthly income
# Below this payment there is no loan worth quoting: few lenders write a car loan that small.
SMALLEST_PAYMENT = Decimal(150)
# Longer loans leave a shopper owing more than the car is worth for years; we don't quote them.
LONGEST_TERM = 72
# Lenders look for a year at the job and at the address; less may mean the top of the range.
SETTLED_YEARS = Decimal(1)


class Applicant(msgspec.Struct, frozen=True):
    credit_band: str  # one of dealers.BANDS, self-reported
    monthly_income: Decimal  # gross, per month
    housing_payment: Decimal  # rent or mortgage per month; 0 if none
    employment: str  # one of EMPLOYMENT
    years_at_job: Decimal | None = None
    years_at_address: Decimal | None = None


class Prequal(msgspec.Struct, frozen=True):
    provider: str
    # "estimate", or "refer": we can't estimate and a person from the dealership will call.
    outcome: str
    apr_low: Decimal | None
    apr_high: Decimal | None
    monthly_payment: Decimal | None  # an affordable monthly car payment
    amount: Decimal | None  # the loan that payment supports at apr_high over term_months
    term_months: int | None
    reasons: tuple[str, ...]  # plain-English lines shown to the shopper


class Provider(Protocol):
    name: str

    async def prequalify(self, applicant: Applicant, finance: Finance) -> Prequal:
        """Estimate what the applicant could borrow from this dealer, or refer them."""
        ...


class BuiltinProvider:
    """Estimate from the shopper's own figures and the dealer's rate tables; offline."""

    name: str = "builtin"

    async def prequalify(self, applicant: Applicant, finance: Finance) -> Prequal:
        """Estimate what the applicant could borrow from this dealer, or refer them."""
        return _builtin(_checked(applicant), finance)


def provider_for(name: str) -> Provider:
    """Return the pre-qualification provider configured under `name`."""
    if name == BuiltinProvider.name:
        return BuiltinProvider()
    raise ValueError(f"unknown pre-qualification provider {name!r}; known: builtin")


def _builtin(applicant: Applicant, finance: Finance) -> Prequal:
    income, housing = applicant.monthly_income, applicant.housing_payment
    basis = _("Based on a gross monthly income of {income} and housing of {housing}").format(
        income=_dollars(income), housing=_dollars(housing)
    )

    # Rule: no income, no estimate. Someone out of work with benefits, a pension or support
    # is estimated on that income like anyone else.
    if income == 0:
        why = _("With no income to count, we can't estimate a car payment")
        if applicant.employment == "unemployed":
            why = _(
                "With no income to count, we can't estimate a car payment; if you have "
                "benefits, a pension or support, enter it as monthly income"
            )
        return _refer(basis, why)

    band = applicant.credit_band
    # Rule: the APR range runs from the cheaper to the dearer of the dealer's new and used
    # rates for the band the shopper chose; the loan is sized at the dearer one, to be safe.
    low = min(finance.apr_new[band], finance.apr_used[band])
    high = max(finance.apr_new[band], finance.apr_used[band])

    # Rule: the longest term the dealer offers, up to LONGEST_TERM months.
    terms = [t for t in finance.terms if t <= LONGEST_TERM]
    if not terms:
        why = _("This dealer offers no loan of {months} months or less")
        return _refer(basis, why.format(months=LONGEST_TERM))
    term = max(terms)

    with localcontext(_CONTEXT):
        # Rule: the lower of the PTI cap and the DTI cap less housing, never below 0,
        # rounded down to whole dollars so the estimate never overstates.
        pti_cap = income * PAYMENT_TO_INCOME / 100
        debt_cap = income * DEBT_TO_INCOME / 100
        dti_cap = debt_cap - housing
        payment = max(Decimal(0), min(pti_cap, dti_cap)).quantize(_DOLLAR, rounding=ROUND_FLOOR)
        # Rule: below SMALLEST_PAYMENT a month, refer rather than quote a token loan.
        if payment < SMALLEST_PAYMENT:
            why = _(
                "The car payment that leaves room in your budget is under {amount} a month, "
                "too small for us to estimate a loan"
            )
            return _refer(basis, why.format(amount=_dollars(SMALLEST_PAYMENT)))
        # Rule: the loan is what that payment repays at the top APR over the term, rounded
        # down to the nearest $100.
        present = _present_value(payment, high, term)
        amount = (present / _HUNDRED).to_integral_value(rounding=ROUND_FLOOR) * _HUNDRED
        # Two places, like every amount in a quote (calc/payment.py).
        payment, amount = payment.quantize(_CENT), amount.quantize(_CENT)

    # The reasons are worded in the shopper's language of the moment ("I agree" pressed) and
    # stored so (issue #11, item 6).
    if low == high:
        rates = _percent(low)
    else:
        rates = _("{low} to {high}").format(low=_percent(low), high=_percent(high))
    reasons = [
        basis,
        _("{percent} of income for a car payment: {amount}").format(
            percent=_percent(PAYMENT_TO_INCOME), amount=_dollars(pti_cap)
        ),
        _(
            "{percent} of income for housing and car together ({total}), less housing: {amount}"
        ).format(
            percent=_percent(DEBT_TO_INCOME), total=_dollars(debt_cap), amount=_dollars(dti_cap)
        ),
        _("The lower of the two, rounded down to whole dollars: {amount} a month").format(
            amount=_dollars(payment)
        ),
        _("APR {rates} for {band} credit, from this dealer's new and used rates").format(
            rates=rates, band=BAND_WORDS.get(band, band)
        ),
        _(
            "Over {months} months at {rate}, {payment} a month repays about {amount} "
            "(rounded down to $100)"
        ).format(
            months=term, rate=_percent(high), payment=_dollars(payment), amount=_dollars(amount)
        ),
    ]
    reasons.extend(_stability(applicant))
    reasons.append(_("An estimate from what you told us, not a credit decision; no credit check"))
    return Prequal(
        provider=BuiltinProvider.name,
        outcome="estimate",
        apr_low=low,
        apr_high=high,
        monthly_payment=payment,
        amount=amount,
        term_months=term,
        reasons=tuple(reasons),
    )


def _present_value(payment: Decimal, apr: Decimal, term: int) -> Decimal:
    # Standard amortization solved for the principal: P = pmt * (1 - (1 + r)^-n) / r.
    if apr == 0:
        return payment * term
    rate = apr / 1200
    return payment * (1 - (1 + rate) ** -term) / rate


def _stability(applicant: Applicant) -> list[str]:
    # Rule: a note, not a change to the figures; the shopper's band already prices their risk.
    short = frozenset(
        what
        for what, years in (
            ("job", applicant.years_at_job),
            ("address", applicant.years_at_address),
        )
        if years is not None and years < SETTLED_YEARS
    )
    if not short:
        return []
    if short == {"job", "address"}:
        return [_("With under a year at your job and address, expect the higher end of the range")]
    if "job" in short:
        return [_("With under a year at your job, expect the higher end of the range")]
    return [_("With under a year at your address, expect the higher end of the range")]


def _refer(*reasons: str) -> Prequal:
    return Prequal(
        provider=BuiltinProvider.name,
        outcome="refer",
        apr_low=None,
        apr_high=None,
        monthly_payment=None,
        amount=None,
        term_months=None,
        reasons=(
            *reasons,
            _("A person from the dealership will call to go through your options"),
        ),
    )


def _checked(applicant: Applicant) -> Applicant:
    # msgspec checks types when decoding, not when a Struct is built in Python.
    if applicant.credit_band not in BANDS:
        raise ValueError(
            f"credit_band must be one of {', '.join(BANDS)}: {applicant.credit_band!r}"
        )
    if applicant.employment not in EMPLOYMENT:
        raise ValueError(
            f"employment must be one of {', '.join(EMPLOYMENT)}: {applicant.employment!r}"
        )
    amounts = {
        "monthly_income": applicant.monthly_income,
        "housing_payment": applicant.housing_payment,
    }
    if applicant.years_at_job is not None:
        amounts["years_at_job"] = applicant.years_at_job
    if applicant.years_at_address is not None:
        amounts["years_at_address"] = applicant.years_at_address
    for name, value in amounts.items():
        # A float has already lost the cents (0.1 + 0.2).
        if not isinstance(value, Decimal):
            raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}: {value!r}")
        if not value.is_finite() or value < 0:
            raise ValueError(f"{name} must be a number of 0 or more, got {value}")
    return applicant


def _dollars(amount: Decimal) -> str:
    shown = amount.quantize(_CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)
    if shown == shown.to_integral_value():
        return f"${shown:,.0f}"
    return f"${shown:,.2f}"


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize(context=_CONTEXT):f}%"
