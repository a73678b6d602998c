"""Scenarios for the finance and lease math.

Every expected figure is worked out here from the textbook formula with exact fractions, then
pinned to the cents a salesperson would read off a deal sheet, so a bug in the module cannot
hide by being copied into its own test.
"""

import math
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

import pytest

from resume.calc.payment import FinanceQuote, LeaseQuote, cents, finance, lease

F = Fraction


def to_cents(value: Fraction) -> Decimal:
    """Round an exact amount half-up to the cent, independently of the module's cents()."""
    whole_cents = math.floor(value * 100 + F(1, 2))
    return Decimal(whole_cents).scaleb(-2)


def amortized(principal: Fraction, apr_percent: Fraction, term: int) -> Fraction:
    """Return the exact level payment P * r * (1 + r)^n / ((1 + r)^n - 1), r = APR / 1200."""
    r = apr_percent / 1200
    growth = (1 + r) ** term
    return principal * r * growth / (growth - 1)


def quote_loan(**overrides: object) -> FinanceQuote:
    """Quote a plain loan: no tax, fee or trade unless a scenario says otherwise."""
    deal: dict[str, object] = {
        "price": Decimal("20000"),
        "down_payment": Decimal("0"),
        "trade_value": Decimal("0"),
        "trade_payoff": Decimal("0"),
        "apr": Decimal("6"),
        "term_months": 60,
        "tax_rate": Decimal("0"),
        "doc_fee": Decimal("0"),
    }
    deal.update(overrides)
    return finance(**deal)  # type: ignore[arg-type]


def quote_lease(**overrides: object) -> LeaseQuote:
    """Quote the 36-month, 58 % residual, 0.00250 money factor lease used below."""
    deal: dict[str, object] = {
        "price": Decimal("40000"),
        "down_payment": Decimal("2000"),
        "trade_value": Decimal("0"),
        "trade_payoff": Decimal("0"),
        "residual_percent": Decimal("58"),
        "money_factor": Decimal("0.00250"),
        "term_months": 36,
        "tax_rate": Decimal("6.25"),
        "doc_fee": Decimal("499"),
    }
    deal.update(overrides)
    return lease(**deal)  # type: ignore[arg-type]


def test_finance_standard_amortization_matches_worked_example() -> None:
    quote = quote_loan(
        price=Decimal("32000"),
        doc_fee=Decimal("499"),
        tax_rate=Decimal("6.25"),
        down_payment=Decimal("3000"),
        trade_value=Decimal("8000"),
        trade_payoff=Decimal("5000"),
        apr=Decimal("6.9"),
        term_months=60,
    )

    # The trade allowance comes off the taxable amount: 32,000 + 499 - 8,000.
    taxable = F(32_000) + 499 - 8_000
    sales_tax = to_cents(taxable * F("6.25") / 100)  # 1,531.1875
    equity = F(8_000) - 5_000
    financed = F(32_000) + 499 + F(sales_tax) - 3_000 - equity
    payment = to_cents(amortized(financed, F("6.9"), 60))  # 553.7098...
    total = payment * 60

    assert quote.trade_equity == Decimal("3000.00")
    assert quote.taxable_amount == to_cents(taxable) == Decimal("24499")
    assert quote.sales_tax == sales_tax == Decimal("1531.19")
    assert quote.amount_financed == to_cents(financed) == Decimal("28030.19")
    assert quote.monthly_payment == payment == Decimal("553.71")
    assert quote.total_of_payments == total == Decimal("33222.60")
    assert quote.finance_charge == total - Decimal("28030.19") == Decimal("5192.41")


def test_finance_matches_published_20000_at_6_percent_for_60_months() -> None:
    # The figure every loan-calculator table prints for this loan: $386.66 a month.
    quote = quote_loan(price=Decimal("20000"), apr=Decimal("6"), term_months=60)

    assert to_cents(amortized(F(20_000), F(6), 60)) == Decimal("386.66")
    assert quote.monthly_payment == Decimal("386.66")
    assert quote.total_of_payments == Decimal("23199.60")
    assert quote.finance_charge == Decimal("3199.60")


def test_finance_zero_apr_divides_evenly_and_charges_no_interest() -> None:
    quote = quote_loan(price=Decimal("24000"), apr=Decimal("0"), term_months=72)

    # 24,000 / 72 = 333.333..., so 72 payments fall 24 cents short; that is not interest.
    assert quote.monthly_payment == to_cents(F(24_000, 72)) == Decimal("333.33")
    assert quote.total_of_payments == Decimal("333.33") * 72 == Decimal("23999.76")
    assert quote.finance_charge == Decimal("0")


def test_finance_negative_trade_equity_is_added_to_amount_financed() -> None:
    quote = quote_loan(
        price=Decimal("30000"),
        doc_fee=Decimal("499"),
        tax_rate=Decimal("6.25"),
        down_payment=Decimal("1000"),
        trade_value=Decimal("6000"),
        trade_payoff=Decimal("9000"),
        apr=Decimal("5.9"),
        term_months=72,
    )

    sales_tax = to_cents((F(30_000) + 499 - 6_000) * F("6.25") / 100)
    # The shopper still owes 3,000 on the trade beyond what it is worth; that debt is financed.
    owed_on_trade = F(9_000) - 6_000
    financed = F(30_000) + 499 + F(sales_tax) - 1_000 + owed_on_trade
    payment = to_cents(amortized(financed, F("5.9"), 72))

    assert quote.trade_equity == Decimal("-3000.00")
    assert quote.sales_tax == sales_tax == Decimal("1531.19")
    assert quote.amount_financed == to_cents(financed) == Decimal("34030.19")
    assert quote.monthly_payment == payment == Decimal("562.37")
    assert quote.finance_charge == payment * 72 - Decimal("34030.19") == Decimal("6460.45")


def test_finance_without_trade_tax_credit_taxes_the_full_price() -> None:
    quote = quote_loan(
        price=Decimal("32000"),
        doc_fee=Decimal("499"),
        tax_rate=Decimal("6.25"),
        trade_value=Decimal("8000"),
        trade_payoff=Decimal("5000"),
        trade_reduces_tax=False,
    )

    sales_tax = to_cents((F(32_000) + 499) * F("6.25") / 100)  # 2,031.1875
    financed = F(32_000) + 499 + F(sales_tax) - (8_000 - 5_000)

    assert quote.taxable_amount == Decimal("32499.00")
    assert quote.sales_tax == sales_tax == Decimal("2031.19")
    assert quote.amount_financed == to_cents(financed) == Decimal("31530.19")


def test_finance_huge_down_payment_clamps_amount_financed_at_zero() -> None:
    quote = quote_loan(price=Decimal("20000"), down_payment=Decimal("30000"))

    assert quote.amount_financed == Decimal("0")
    assert quote.monthly_payment == Decimal("0")
    assert quote.total_of_payments == Decimal("0")
    assert quote.finance_charge == Decimal("0")


def test_finance_trade_worth_more_than_price_never_taxes_a_negative_amount() -> None:
    quote = quote_loan(price=Decimal("5000"), tax_rate=Decimal("6.25"), trade_value=Decimal("9000"))

    assert quote.taxable_amount == Decimal("0")
    assert quote.sales_tax == Decimal("0")
    assert quote.amount_financed == Decimal("0")


def test_lease_36_months_matches_worked_example() -> None:
    quote = quote_lease()

    adjusted = F(40_000) + 499 - 2_000  # gross cap cost less the cash down
    residual = to_cents(F(40_000) * 58 / 100)
    depreciation = to_cents((adjusted - F(residual)) / 36)  # 15,299 / 36 = 424.972...
    rent = to_cents((adjusted + F(residual)) * F("0.00250"))  # 61,699 * 0.0025 = 154.2475
    base = depreciation + rent
    tax = to_cents(F(base) * F("6.25") / 100)  # 579.22 * 0.0625 = 36.20125

    assert quote.gross_cap_cost == Decimal("40499.00")
    assert quote.cap_cost_reduction == Decimal("2000.00")
    assert quote.adjusted_cap_cost == to_cents(adjusted) == Decimal("38499")
    assert quote.residual_value == residual == Decimal("23200.00")
    assert quote.equivalent_apr == Decimal("6.00")
    assert quote.depreciation == depreciation == Decimal("424.97")
    assert quote.rent_charge == rent == Decimal("154.25")
    assert quote.base_payment == base == Decimal("579.22")
    assert quote.monthly_tax == tax == Decimal("36.20")
    assert quote.monthly_payment == base + tax == Decimal("615.42")
    assert quote.total_of_payments == Decimal("615.42") * 36 == Decimal("22155.12")


def test_lease_negative_equity_rolls_into_gross_cap_cost() -> None:
    quote = quote_lease(trade_value=Decimal("5000"), trade_payoff=Decimal("8000"))

    # 3,000 still owed on the trade is added to what is being leased, not taken off it.
    gross = F(40_000) + 499 + (8_000 - 5_000)
    adjusted = gross - 2_000
    depreciation = to_cents((adjusted - 23_200) / 36)  # 18,299 / 36 = 508.305...
    rent = to_cents((adjusted + 23_200) * F("0.00250"))  # 64,699 * 0.0025 = 161.7475

    assert quote.trade_equity == Decimal("-3000.00")
    assert quote.gross_cap_cost == to_cents(gross) == Decimal("43499")
    assert quote.cap_cost_reduction == Decimal("2000.00")
    assert quote.depreciation == depreciation == Decimal("508.31")
    assert quote.rent_charge == rent == Decimal("161.75")
    assert quote.monthly_payment == to_cents(F(depreciation + rent) * F("1.0625"))


def test_lease_positive_equity_works_like_cash_down() -> None:
    with_trade = quote_lease(
        down_payment=Decimal("0"), trade_value=Decimal("5000"), trade_payoff=Decimal("3000")
    )
    with_cash = quote_lease(down_payment=Decimal("2000"))

    assert with_trade.cap_cost_reduction == Decimal("2000.00")
    assert with_trade.monthly_payment == with_cash.monthly_payment


def test_lease_huge_down_payment_leaves_only_rent_charge() -> None:
    quote = quote_lease(down_payment=Decimal("30000"))

    # Adjusted cap cost 10,499 is under the 23,200 residual: no negative depreciation.
    rent = to_cents((F(10_499) + 23_200) * F("0.00250"))  # 84.2475
    assert quote.adjusted_cap_cost == Decimal("10499.00")
    assert quote.depreciation == Decimal("0")
    assert quote.rent_charge == rent == Decimal("84.25")
    assert quote.monthly_payment == rent + to_cents(F(rent) * F("6.25") / 100)


def test_quotes_ignore_the_callers_decimal_context() -> None:
    expected_loan = quote_loan()
    expected_lease = quote_lease()

    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        assert quote_loan() == expected_loan
        assert quote_lease() == expected_lease
        assert cents(Decimal("12345.675")) == Decimal("12345.68")


def test_cents_rounds_halves_up() -> None:
    assert cents(Decimal("0.005")) == Decimal("0.01")
    assert cents(Decimal("2.675")) == Decimal("2.68")
    assert cents(Decimal("2.674999")) == Decimal("2.67")
    assert str(cents(Decimal("10"))) == "10.00"


@pytest.mark.parametrize("field", ["price", "down_payment", "apr", "tax_rate", "doc_fee"])
def test_finance_rejects_float_inputs(field: str) -> None:
    with pytest.raises(TypeError, match=field):
        quote_loan(**{field: 0.1})


@pytest.mark.parametrize("field", ["price", "residual_percent", "money_factor", "trade_value"])
def test_lease_rejects_float_inputs(field: str) -> None:
    with pytest.raises(TypeError, match=field):
        quote_lease(**{field: 0.5})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", Decimal("-1")),
        ("down_payment", Decimal("-0.01")),
        ("trade_payoff", Decimal("-5")),
        ("doc_fee", Decimal("NaN")),
        ("price", Decimal("Infinity")),
        ("apr", Decimal("-0.1")),
        ("apr", Decimal("40.01")),
        ("tax_rate", Decimal("-1")),
        ("tax_rate", Decimal("25.01")),
        ("term_months", 0),
        ("term_months", 121),
    ],
)
def test_finance_rejects_bad_inputs(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        quote_loan(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("residual_percent", Decimal("0")),
        ("residual_percent", Decimal("100.01")),
        ("money_factor", Decimal("-0.0001")),
        ("money_factor", Decimal("0.0101")),
        ("tax_rate", Decimal("26")),
        ("term_months", -36),
        ("trade_value", Decimal("-1")),
        ("down_payment", Decimal("sNaN")),
    ],
)
def test_lease_rejects_bad_inputs(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        quote_lease(**{field: value})


def test_quotes_accept_the_edges_of_each_range() -> None:
    loan = quote_loan(apr=Decimal("40"), tax_rate=Decimal("25"), term_months=120)
    # 25 % tax on 20,000 is financed too: 25,000 at 40 % for ten years.
    assert loan.amount_financed == Decimal("25000.00")
    assert loan.monthly_payment == to_cents(amortized(F(25_000), F(40), 120))

    # A 100 % residual on a 40,000 car with 40,499 capitalized leaves 499 to depreciate.
    full = quote_lease(
        down_payment=Decimal("0"), residual_percent=Decimal("100"), money_factor=Decimal("0.01")
    )
    assert full.residual_value == Decimal("40000.00")
    assert full.depreciation == to_cents(F(499, 36)) == Decimal("13.86")
    assert full.rent_charge == to_cents((F(40_499) + 40_000) * F("0.01")) == Decimal("804.99")
    assert full.equivalent_apr == Decimal("24.00")
