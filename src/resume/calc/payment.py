"""Finance and lease payment math, in Decimal only.

Money inputs are rounded to cents on the way in, so every amount in a quote has two places and
the arithmetic matches the figures a shopper sees. Intermediate math runs in a private decimal
context, so a caller that changed its own context (precision, rounding, traps) gets the same
answer as everyone else.
"""

from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    localcontext,
)

import msgspec

# A fresh context, not a copy of the caller's: their precision, rounding or traps must not leak in.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero])
_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_MAX_TERM = 120


class FinanceQuote(msgspec.Struct, frozen=True):
    price: Decimal
    doc_fee: Decimal
    trade_value: Decimal
    trade_payoff: Decimal
    trade_equity: Decimal
    taxable_amount: Decimal
    tax_rate: Decimal
    sales_tax: Decimal
    down_payment: Decimal
    amount_financed: Decimal
    apr: Decimal
    term_months: int
    monthly_payment: Decimal
    total_of_payments: Decimal
    finance_charge: Decimal


class LeaseQuote(msgspec.Struct, frozen=True):
    price: Decimal
    doc_fee: Decimal
    gross_cap_cost: Decimal
    cap_cost_reduction: Decimal
    adjusted_cap_cost: Decimal
    residual_percent: Decimal
    residual_value: Decimal
    money_factor: Decimal
    equivalent_apr: Decimal
    term_months: int
    depreciation: Decimal
    rent_charge: Decimal
    base_payment: Decimal
    tax_rate: Decimal
    monthly_tax: Decimal
    monthly_payment: Decimal
    total_of_payments: Decimal
    trade_equity: Decimal
    # The cash the shopper brings to sign: the down payment and the first month's payment (the
    # doc fee is capitalized, and trade equity is not cash).
    due_at_signing: Decimal


def cents(x: Decimal) -> Decimal:
    """Round to the cent, halves away from zero."""
    return x.quantize(_CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)


def _number(name: str, value: object) -> Decimal:
    # A float has already lost the cents (0.1 + 0.2); bool is an int but never an amount.
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}: {value!r}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _money(name: str, value: object) -> Decimal:
    amount = _number(name, value)
    if amount < 0:
        raise ValueError(f"{name} must not be negative, got {amount}")
    return cents(amount)


def _rate(name: str, value: object, low: Decimal, high: Decimal) -> Decimal:
    rate = _number(name, value)
    if not low <= rate <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {rate}")
    return rate


def _term(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"term_months must be an int, not {type(value).__name__}: {value!r}")
    if not 0 < value <= _MAX_TERM:
        raise ValueError(f"term_months must be between 1 and {_MAX_TERM}, got {value}")
    return value


def _amortized(principal: Decimal, apr: Decimal, term: int) -> Decimal:
    if principal == 0:
        return _ZERO
    if apr == 0:
        return cents(principal / term)
    rate = apr / 1200
    return cents(principal * rate / (1 - (1 + rate) ** -term))


def finance(
    *,
    price: Decimal,
    down_payment: Decimal,
    trade_value: Decimal,
    trade_payoff: Decimal,
    apr: Decimal,
    term_months: int,
    tax_rate: Decimal,
    doc_fee: Decimal,
    trade_reduces_tax: bool = True,
) -> FinanceQuote:
    """Quote a retail installment loan: sales tax, amount financed and monthly payment."""
    price = _money("price", price)
    down_payment = _money("down_payment", down_payment)
    trade_value = _money("trade_value", trade_value)
    trade_payoff = _money("trade_payoff", trade_payoff)
    doc_fee = _money("doc_fee", doc_fee)
    apr = _rate("apr", apr, Decimal(0), Decimal(40))
    tax_rate = _rate("tax_rate", tax_rate, Decimal(0), Decimal(25))
    term_months = _term(term_months)

    with localcontext(_CONTEXT):
        trade_equity = trade_value - trade_payoff
        taxable = price + doc_fee - trade_value if trade_reduces_tax else price + doc_fee
        taxable = max(_ZERO, taxable)
        sales_tax = cents(taxable * tax_rate / 100)
        # Negative equity is subtracted as a negative, so the unpaid payoff is financed.
        financed = price + doc_fee + sales_tax - down_payment - trade_equity
        financed = max(_ZERO, financed)
        monthly = _amortized(financed, apr, term_months)
        total = monthly * term_months
        # At 0 % APR, rounding the payment down can leave the total a few cents short.
        charge = max(_ZERO, total - financed)

    return FinanceQuote(
        price=price,
        doc_fee=doc_fee,
        trade_value=trade_value,
        trade_payoff=trade_payoff,
        trade_equity=trade_equity,
        taxable_amount=taxable,
        tax_rate=tax_rate,
        sales_tax=sales_tax,
        down_payment=down_payment,
        amount_financed=financed,
        apr=apr,
        term_months=term_months,
        monthly_payment=monthly,
        total_of_payments=total,
        finance_charge=charge,
    )


def lease(
    *,
    price: Decimal,
    down_payment: Decimal,
    trade_value: Decimal,
    trade_payoff: Decimal,
    residual_percent: Decimal,
    money_factor: Decimal,
    term_months: int,
    tax_rate: Decimal,
    doc_fee: Decimal,
) -> LeaseQuote:
    """Quote a closed-end lease, taxing each monthly payment (use-tax method)."""
    price = _money("price", price)
    down_payment = _money("down_payment", down_payment)
    trade_value = _money("trade_value", trade_value)
    trade_payoff = _money("trade_payoff", trade_payoff)
    doc_fee = _money("doc_fee", doc_fee)
    residual_percent = _number("residual_percent", residual_percent)
    if not 0 < residual_percent <= 100:
        raise ValueError(
            f"residual_percent must be above 0 and at most 100, got {residual_percent}"
        )
    money_factor = _rate("money_factor", money_factor, Decimal(0), Decimal("0.01"))
    tax_rate = _rate("tax_rate", tax_rate, Decimal(0), Decimal(25))
    term_months = _term(term_months)

    with localcontext(_CONTEXT):
        trade_equity = trade_value - trade_payoff
        # Negative equity rolls into the lease; positive equity works like cash down.
        gross = price + doc_fee + max(_ZERO, -trade_equity)
        reduction = down_payment + max(_ZERO, trade_equity)
        adjusted = max(_ZERO, gross - reduction)
        residual = cents(price * residual_percent / 100)
        # A down payment that pushes the cap cost under the residual buys no negative depreciation.
        depreciation = max(_ZERO, cents((adjusted - residual) / term_months))
        rent = cents((adjusted + residual) * money_factor)
        base = depreciation + rent
        monthly_tax = cents(base * tax_rate / 100)
        monthly = base + monthly_tax
        equivalent_apr = cents(money_factor * 2400)
        total = monthly * term_months
        due = down_payment + monthly

    return LeaseQuote(
        price=price,
        doc_fee=doc_fee,
        gross_cap_cost=gross,
        cap_cost_reduction=reduction,
        adjusted_cap_cost=adjusted,
        residual_percent=residual_percent,
        residual_value=residual,
        money_factor=money_factor,
        equivalent_apr=equivalent_apr,
        term_months=term_months,
        depreciation=depreciation,
        rent_charge=rent,
        base_payment=base,
        tax_rate=tax_rate,
        monthly_tax=monthly_tax,
        monthly_payment=monthly,
        total_of_payments=total,
        trade_equity=trade_equity,
        due_at_signing=due,
    )
