"""Scenarios for soft-credit pre-qualification with the built-in, offline provider.

Every expected figure is worked out here with exact fractions from the rules the module
documents (15 % payment-to-income, 45 % debt-to-income less housing, the longest term up to
72 months, the loan sized at the dearer APR) and also pinned as a number a person can check,
so a slip in the module cannot hide by being copied into its own test.
"""

import asyncio
import math
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

import pytest

from resume.calc.prequal import Applicant, BuiltinProvider, Prequal, provider_for
from resume.dealers import Finance

F = Fraction


def affordable(income: str, housing: str) -> int:
    """Return the lower of 15 % of income and 45 % of income less housing, in whole dollars."""
    pti = F(income) * 15 / 100
    dti = F(income) * 45 / 100 - F(housing)
    return math.floor(max(F(0), min(pti, dti)))


def supported_loan(payment: int, apr_percent: str, term: int) -> Decimal:
    """Return pmt * (1 - (1 + r)^-n) / r, r = APR / 1200, rounded down to the $100."""
    r = F(apr_percent) / 1200
    principal = F(payment) * term if r == 0 else F(payment) * (1 - (1 + r) ** -term) / r
    return Decimal(math.floor(principal / 100) * 100)


def prequalify(finance: Finance | None = None, **fields: object) -> Prequal:
    """Ask the built-in provider about an employed, good-credit shopper unless told otherwise."""
    answers: dict[str, object] = {
        "credit_band": "good",
        "monthly_income": Decimal("5000"),
        "housing_payment": Decimal("1000"),
        "employment": "employed",
    }
    answers.update(fields)
    applicant = Applicant(**answers)  # type: ignore[arg-type]
    return asyncio.run(provider_for("builtin").prequalify(applicant, finance or Finance()))


def zero_rate_finance() -> Finance:
    """A dealer running a 0 % promotion for excellent credit, new and used alike."""
    finance = Finance()
    return Finance(
        apr_new={**finance.apr_new, "excellent": Decimal("0")},
        apr_used={**finance.apr_used, "excellent": Decimal("0")},
    )


def assert_referred(result: Prequal) -> None:
    assert result.provider == "builtin"
    assert result.outcome == "refer"
    figures = (result.apr_low, result.apr_high, result.monthly_payment, result.amount)
    assert figures == (None, None, None, None)
    assert result.term_months is None
    assert result.reasons[-1] == "A person from the dealership will call to go through your options"


def test_good_credit_payment_capped_at_15_percent_of_income() -> None:
    # $5,000 a month: 15 % is $750; 45 % is $2,250, less $1,000 housing leaves $1,250.
    result = prequalify(monthly_income=Decimal("5000"), housing_payment=Decimal("1000"))

    assert affordable("5000", "1000") == 750
    assert result.outcome == "estimate"
    assert result.monthly_payment == Decimal("750")
    # Default tables: good credit is 6.99 % new and 8.99 % used; terms run to 84, we stop at 72.
    assert (result.apr_low, result.apr_high) == (Decimal("6.99"), Decimal("8.99"))
    assert result.term_months == 72
    # $750 for 72 months at 8.99 % repays $41,619.09, shown as $41,600.
    assert result.amount == supported_loan(750, "8.99", 72) == Decimal("41600")
    assert result.reasons[:6] == (
        "Based on a gross monthly income of $5,000 and housing of $1,000",
        "15% of income for a car payment: $750",
        "45% of income for housing and car together ($2,250), less housing: $1,250",
        "The lower of the two, rounded down to whole dollars: $750 a month",
        "APR 6.99% to 8.99% for good credit, from this dealer's new and used rates",
        "Over 72 months at 8.99%, $750 a month repays about $41,600 (rounded down to $100)",
    )
    assert "no credit check" in result.reasons[-1]


def test_high_housing_makes_the_45_percent_cap_bind() -> None:
    # $6,000 a month: 15 % is $900, but 45 % ($2,700) less $2,100 rent leaves only $600.
    result = prequalify(
        credit_band="fair", monthly_income=Decimal("6000"), housing_payment=Decimal("2100")
    )

    assert affordable("6000", "2100") == 600
    assert result.outcome == "estimate"
    assert result.monthly_payment == Decimal("600")
    assert (result.apr_low, result.apr_high) == (Decimal("10.49"), Decimal("12.99"))
    # $600 for 72 months at 12.99 % repays $29,897.11, shown as $29,800.
    assert result.amount == supported_loan(600, "12.99", 72) == Decimal("29800")
    assert "15% of income for a car payment: $900" in result.reasons
    assert "45% of income for housing and car together ($2,700), less housing: $600" in (
        result.reasons
    )


def test_zero_percent_apr_loan_is_payment_times_term() -> None:
    # 15 % of $4,210 is $631.50, so $631; at 0 % that repays 631 x 72 = $45,432, shown as $45,400.
    result = prequalify(
        zero_rate_finance(),
        credit_band="excellent",
        monthly_income=Decimal("4210"),
        housing_payment=Decimal("0"),
    )

    assert result.outcome == "estimate"
    assert (result.apr_low, result.apr_high) == (Decimal("0"), Decimal("0"))
    assert result.monthly_payment == Decimal("631")
    assert result.amount == supported_loan(631, "0", 72) == Decimal("45400")
    assert "APR 0% for excellent credit, from this dealer's new and used rates" in result.reasons


@pytest.mark.parametrize("employment", ["employed", "unemployed"])
def test_no_income_is_referred(employment: str) -> None:
    result = prequalify(
        monthly_income=Decimal("0"), housing_payment=Decimal("0"), employment=employment
    )

    assert_referred(result)
    assert result.reasons[0] == "Based on a gross monthly income of $0 and housing of $0"
    assert result.reasons[1].startswith("With no income to count, we can't estimate")
    # Someone out of work is told how to count benefits; someone employed is not.
    assert ("benefits" in result.reasons[1]) == (employment == "unemployed")


def test_unemployed_with_benefits_is_estimated_on_that_income() -> None:
    result = prequalify(
        employment="unemployed", monthly_income=Decimal("2000"), housing_payment=Decimal("0")
    )

    assert result.outcome == "estimate"
    assert result.monthly_payment == Decimal("300")
    assert result.amount == supported_loan(300, "8.99", 72) == Decimal("16600")


def test_payment_under_150_is_referred_and_150_is_estimated() -> None:
    # 15 % of $999.99 is $149.9985: $149 after rounding down, under the $150 floor.
    under = prequalify(monthly_income=Decimal("999.99"), housing_payment=Decimal("0"))
    # 15 % of $1,000 is exactly $150, the smallest payment we estimate from.
    at = prequalify(monthly_income=Decimal("1000"), housing_payment=Decimal("0"))

    assert affordable("999.99", "0") == 149
    assert_referred(under)
    assert "under $150 a month" in under.reasons[1]
    assert at.outcome == "estimate"
    assert at.monthly_payment == Decimal("150")
    assert at.amount == supported_loan(150, "8.99", 72) == Decimal("8300")


def test_housing_that_leaves_under_150_is_referred() -> None:
    # $3,000 a month: 45 % is $1,350; rent of $1,201 leaves $149, rent of $1,200 leaves $150.
    squeezed = prequalify(monthly_income=Decimal("3000"), housing_payment=Decimal("1201"))
    enough = prequalify(monthly_income=Decimal("3000"), housing_payment=Decimal("1200"))
    # Housing above 45 % of income leaves a negative room; the payment stops at 0, a refer.
    over = prequalify(monthly_income=Decimal("3000"), housing_payment=Decimal("1500"))

    assert_referred(squeezed)
    assert_referred(over)
    assert enough.monthly_payment == Decimal("150")


def test_apr_range_and_term_come_from_the_dealers_tables() -> None:
    # This dealer prices used cars below new for fair credit, and offers a 66-month loan.
    default = Finance()
    finance = Finance(
        apr_new={**default.apr_new, "fair": Decimal("9.5")},
        apr_used={**default.apr_used, "fair": Decimal("7.25")},
        terms=(24, 48, 66, 84),
    )
    result = prequalify(
        finance,
        credit_band="fair",
        monthly_income=Decimal("3000"),
        housing_payment=Decimal("500"),
    )

    assert (result.apr_low, result.apr_high) == (Decimal("7.25"), Decimal("9.5"))
    # 84 months is offered but longer than 72; 66 is the longest we quote.
    assert result.term_months == 66
    assert result.monthly_payment == Decimal("450")
    # $450 for 66 months at the dearer 9.5 % repays $23,063.26, shown as $23,000.
    assert result.amount == supported_loan(450, "9.5", 66) == Decimal("23000")
    assert "APR 7.25% to 9.5% for fair credit, from this dealer's new and used rates" in (
        result.reasons
    )


def test_dealer_with_only_long_terms_is_referred() -> None:
    result = prequalify(Finance(terms=(84, 96)))

    assert_referred(result)
    assert "no loan of 72 months or less" in result.reasons[1]


def test_payment_rounds_down_to_dollars_and_amount_to_hundreds() -> None:
    # 15 % of $4,321.50 is $648.225: the payment is $648, never $648.23. The reasons show the
    # cap itself to the cent, halves rounded up; 45 % ($1,944.675) less $350.50 is $1,594.175.
    result = prequalify(monthly_income=Decimal("4321.50"), housing_payment=Decimal("350.50"))

    assert affordable("4321.50", "350.50") == 648
    assert str(result.monthly_payment) == "648.00"
    # $648 for 72 months at 8.99 % repays $35,958.90: shown as $35,900, not $36,000.
    assert supported_loan(648, "8.99", 72) == Decimal("35900")
    assert str(result.amount) == "35900.00"
    assert result.reasons[:4] == (
        "Based on a gross monthly income of $4,321.50 and housing of $350.50",
        "15% of income for a car payment: $648.23",
        "45% of income for housing and car together ($1,944.68), less housing: $1,594.18",
        "The lower of the two, rounded down to whole dollars: $648 a month",
    )


def test_callers_decimal_context_does_not_change_the_figures() -> None:
    with localcontext() as ctx:
        ctx.prec = 6
        ctx.rounding = ROUND_DOWN
        result = prequalify(monthly_income=Decimal("5000"), housing_payment=Decimal("1000"))

    assert result.amount == Decimal("41600")


def test_short_time_at_job_or_address_is_noted_without_changing_figures() -> None:
    settled = prequalify(years_at_job=Decimal("4"), years_at_address=Decimal("2"))
    new_job = prequalify(years_at_job=Decimal("0.5"), years_at_address=Decimal("2"))
    just_moved = prequalify(years_at_job=Decimal("0.5"), years_at_address=Decimal("0.25"))

    assert not any("under a year" in line for line in settled.reasons)
    assert "With under a year at your job, expect the higher end of the range" in new_job.reasons
    assert (
        "With under a year at your job and address, expect the higher end of the range"
        in just_moved.reasons
    )
    assert new_job.monthly_payment == settled.monthly_payment == Decimal("750")
    assert new_job.amount == settled.amount == Decimal("41600")


def test_provider_for_knows_only_builtin() -> None:
    provider = provider_for("builtin")

    assert isinstance(provider, BuiltinProvider)
    assert provider.name == "builtin"
    with pytest.raises(ValueError, match="'experian'"):
        provider_for("experian")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("credit_band", "platinum", ValueError),
        ("employment", "retried", ValueError),
        ("monthly_income", Decimal("-1"), ValueError),
        ("housing_payment", Decimal("NaN"), ValueError),
        ("monthly_income", 5000.0, TypeError),
        ("years_at_job", Decimal("-0.5"), ValueError),
    ],
)
def test_impossible_answers_are_refused(field: str, value: object, error: type) -> None:
    with pytest.raises(error, match=field):
        prequalify(**{field: value})
