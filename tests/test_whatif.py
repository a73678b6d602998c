"""What-if payments on the payment result (issue #11, item 3): a grid of the dealer's terms
against three down payments, each cell a button that adopts it and saves like any step.

Every figure is worked out here with Decimal from Demo Motors' published rates, apart from the
app's own math; every refused button leaves the database as it was.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from html import unescape
from typing import Any

import pytest
from conftest import NUMBERS, VEHICLE, Shopper, Store

# Demo Motors' finance defaults (resume.dealers.FinanceTerms), as its settings page shows them.
DOC_FEE = Decimal("499")
TAX = Decimal("6.25")
APR_GOOD_NEW = Decimal("6.99")
MF_GOOD = Decimal("0.00260")
RESIDUALS = {24: Decimal(64), 36: Decimal(58), 39: Decimal(56), 48: Decimal(50)}
FINANCE_TERMS = (36, 48, 60, 72, 84)
PRICE = Decimal(32000)


def _cent(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _dollar(x: Decimal) -> str:
    return f"${x.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def _money(x: Decimal) -> str:
    return f"${_cent(x):,.2f}"


def loan(term: int, down: Decimal, trade: Decimal = Decimal(8000), owed: Decimal = Decimal(5000)):
    """The textbook amortized payment on Demo Motors' terms for the test's RAV4."""
    with localcontext() as ctx:
        ctx.prec = 40
        tax = _cent((PRICE + DOC_FEE - trade) * TAX / 100)
        financed = PRICE + DOC_FEE + tax - down - (trade - owed)
        rate = APR_GOOD_NEW / 1200
        return _cent(financed * rate / (1 - (1 + rate) ** -term))


def lease_payment(term: int, down: Decimal) -> tuple[Decimal, Decimal]:
    """A closed-end lease with no trade: the monthly payment and the cash due at signing."""
    with localcontext() as ctx:
        ctx.prec = 40
        adjusted = PRICE + DOC_FEE - down
        residual = _cent(PRICE * RESIDUALS[term] / 100)
        base = _cent((adjusted - residual) / term) + _cent((adjusted + residual) * MF_GOOD)
        monthly = base + _cent(base * TAX / 100)
        return monthly, down + monthly


def grid(page: Any) -> dict[tuple[int, str], dict[str, str]]:
    """The what-if table as a shopper's screen reader hears each button, by term and down."""
    table = re.search(r'<table class="what-if">(.*?)</table>', page.text, re.S)
    assert table, "no what-if table on the result"
    cells = {}
    for value, inner in re.findall(
        r'<button type="submit" name="action" value="(adopt:[^"]+)"[^>]*>(.*?)</button>',
        table.group(1),
        re.S,
    ):
        _, term, down = value.split(":")
        heard = unescape(
            re.sub(r"<[^>]+>", "", re.sub(r'<span class="(mark|due)".*?</span>', "", inner))
        )
        cells[(int(term), down)] = {"value": value, "heard": heard, "html": inner}
    return cells


def monthly(page: Any) -> str:
    found = re.search(r'id="monthly-payment">([^<]+)<', page.text)
    assert found, page.text[:400]
    return found.group(1)


@pytest.fixture
def result(shopper: Shopper) -> Shopper:
    """A shopper on the finance result: the RAV4 at $32,000, $3,000 down, 60 months."""
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    assert monthly(shopper.page) == _money(loan(60, Decimal(3000)))
    return shopper


def test_the_grid_shows_each_finance_term_against_three_down_payments(result: Shopper) -> None:
    cells = grid(result.page)
    # A $2,000 step for a $32,000 car: $1,000, the shopper's $3,000 and $5,000.
    assert set(cells) == {(t, d) for t in FINANCE_TERMS for d in ("1000", "3000", "5000")}
    for (term, down), cell in cells.items():
        payment = loan(term, Decimal(down))
        assert f"{term} months, ${int(down):,} down: " in cell["heard"]
        assert f"{_dollar(payment)} a month" in cell["heard"], cell
    text = unescape(result.page.text)
    # Each head reads "$1,000 down"; "down" is said once, in the caption, for the eye.
    for head in ("$1,000", "$3,000", "$5,000"):
        assert f'{head}<span class="visually-hidden"> down</span>' in text
    # The shopper's own choice, marked for the eye (✓) and for a screen reader, not by colour.
    mine = cells[(60, "3000")]
    assert 'aria-current="true"' in result.page.text.split('value="adopt:60:3000"')[1][:40]
    assert "✓" in unescape(mine["html"]) and "your choice now" in mine["heard"]
    others = [c for k, c in cells.items() if k != (60, "3000")]
    assert all("your choice now" not in c["heard"] and "✓" not in c["html"] for c in others)
    assert text.count('aria-current="true"') == 1


def test_a_cell_adopts_its_term_and_down_payment_as_the_numbers_answers(
    result: Shopper, store: Store
) -> None:
    before = len(store.events(result.draft_id))
    response = result.fill("result", action="adopt:72:5000")
    assert response.status_code == 200 and "/payment/result?d=" in str(response.url)
    assert monthly(result.page) == _money(loan(72, Decimal(5000)))
    assert "72 months" in unescape(result.page.text)
    stored = store.values(result.draft_id)
    assert (stored["term"]["value"], stored["term"]["step"], stored["term"]["valid"]) == (
        "72",
        "numbers",
        True,
    )
    assert (stored["down_payment"]["value"], stored["down_payment"]["step"]) == ("5000", "numbers")
    assert stored["price"]["value"] == "32,000"  # the rest as typed, untouched
    events = store.events(result.draft_id)[before:]
    assert [e[0] for e in events].count("field_changed") == 2
    assert "step_saved" in [e[0] for e in events]
    # The grid now centres on the new choice; the numbers step shows the adopted answers.
    cells = grid(result.page)
    assert {d for _, d in cells} == {"3000", "5000", "7000"}
    assert "your choice now" in cells[(72, "5000")]["heard"]
    page = result.fill("result", action="back")
    assert result.value("term") == "72" or 'value="72" checked' in page.text
    assert result.value("down_payment") == "5000"


def test_pressing_the_current_cell_again_changes_nothing(result: Shopper, store: Store) -> None:
    result.fill("result", action="adopt:60:3000")
    assert monthly(result.page) == _money(loan(60, Decimal(3000)))
    assert store.values(result.draft_id)["down_payment"]["value"] == "3000"


def test_down_payments_never_go_below_zero_or_above_the_price(shopper: Shopper) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill(
        "numbers", **{**NUMBERS, "down_payment": "", "trade_value": "", "trade_payoff": ""}
    )
    assert {d for _, d in grid(shopper.page)} == {"0", "2000", "4000"}
    shopper.fill("result", action="adopt:48:32000")
    assert {d for _, d in grid(shopper.page)} == {"28000", "30000", "32000"}
    assert monthly(shopper.page) == _money(loan(48, PRICE, Decimal(0), Decimal(0)))
    # Cents typed on the numbers step travel in the button and back, exactly.
    shopper.fill("result", action="back")
    shopper.fill("numbers", **{**NUMBERS, "down_payment": "2,500.50"})
    cells = grid(shopper.page)
    assert {d for _, d in cells} == {"500.50", "2500.50", "4500.50"}
    shopper.fill("result", action="adopt:36:4500.50")
    assert monthly(shopper.page) == _money(loan(36, Decimal("4500.50")))


def test_a_lease_grid_shows_lease_terms_and_what_is_due_at_signing(
    shopper: Shopper, store: Store
) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    lease = {**NUMBERS, "plan": "lease", "term": "36", "trade_value": "", "trade_payoff": ""}
    page = shopper.fill("numbers", **lease)
    pay, due = lease_payment(36, Decimal(3000))
    assert monthly(page) == _money(pay)
    text = unescape(page.text)
    assert f'id="due-at-signing">{_money(due)}<' in text
    cells = grid(page)
    assert {t for t, _ in cells} == set(RESIDUALS)
    for (term, down), cell in cells.items():
        pay, due = lease_payment(term, Decimal(down))
        assert f"{_dollar(pay)} a month, {_dollar(due)} due at signing" in cell["heard"]
        # Seen under the payment; the caption says it is what is due at signing.
        assert f'<span class="due" aria-hidden="true">{_dollar(due)}</span>' in unescape(
            cell["html"]
        )
    # Plain words first, the trade's term kept beside them in the breakdown.
    for plain, term in (
        ("Value at lease end", "(residual value)"),
        ("Lease rate", "(money factor)"),
        ("Lease charge a month", "(rent charge)"),
    ):
        assert plain in text and term in text
    shopper.fill("result", action="adopt:48:5000")
    pay, due = lease_payment(48, Decimal(5000))
    assert monthly(shopper.page) == _money(pay)
    assert f'id="due-at-signing">{_money(due)}<' in unescape(shopper.page.text)
    stored = store.values(shopper.draft_id)
    assert (stored["term"]["value"], stored["down_payment"]["value"]) == ("48", "5000")


HOSTILE = [
    "adopt:",
    "adopt:60",
    "adopt:60:",
    "adopt::3000",
    "adopt:61:3000",  # a term Demo Motors doesn't offer
    "adopt:39:3000",  # a lease term, for a loan
    "adopt:0:3000",
    "adopt:060:3000",
    "adopt:60:-100",
    "adopt:60:3,000",
    "adopt:60:$3000",
    "adopt:60:3000.5",
    "adopt:60:3000.505",
    "adopt:60:1e4",
    "adopt:60:NaN",
    "adopt:60:Infinity",
    "adopt:60: 3000",
    "adopt:60:3000 ",
    "adopt:60:3000:1",
    "adopt:60:03000",
    "adopt:60:1000001",  # over the down payment's own limit
    "adopt:60:9999999",
    "adopt:99999999999:3000",
    "adopt:60:<script>alert(1)</script>",
    "adopt:60:３０００",  # full-width digits
    "adopt:60:3000\n",
    "ADOPT:60:3000",
    "adopt:" + "9" * 1500,
]


@pytest.mark.parametrize("action", HOSTILE)
def test_a_malformed_or_hostile_cell_is_refused_with_nothing_stored(
    result: Shopper, store: Store, action: str
) -> None:
    before = store.snapshot()
    response = result.post("result", {"d": result.token, "comment_hp": "", "action": action})
    assert 400 <= response.status_code < 500, (action, response.status_code)
    text = unescape(response.text)
    assert "<script>alert" not in text
    assert "Traceback" not in text and "<title>" in text
    for table in ("drafts", "field_values", "consents", "outbox"):
        assert store.snapshot()[table] == before[table], (action, table)


def test_the_refusal_says_which_terms_the_dealer_offers(result: Shopper) -> None:
    response = result.post(
        "result", {"d": result.token, "comment_hp": "", "action": "adopt:61:3000"}
    )
    assert response.status_code == 400
    assert "36, 48, 60, 72, 84 months, not 61" in unescape(response.text)


def test_a_cell_is_only_a_button_of_the_result(result: Shopper, store: Store) -> None:
    before = store.snapshot()
    result.fill("result", action="back")
    response = result.post(
        "numbers", {"d": result.token, "comment_hp": "", "action": "adopt:60:3000", **NUMBERS}
    )
    assert response.status_code == 400
    response = result.post(
        "result", {"d": result.token, "comment_hp": "", "action": "adopt:60:3000", "term": "36"}
    )
    assert response.status_code == 400  # the result asks no fields of its own
    after = store.snapshot()
    assert after["field_values"] == before["field_values"]


def test_a_cell_needs_a_complete_estimate(result: Shopper, store: Store) -> None:
    result.fill("result", action="back")
    result.fill(
        "numbers",
        action="back",
        **{k: v for k, v in NUMBERS.items() if k not in {"plan", "credit"}},
    )
    # Back stores without checking; the progress list then jumps to the result reached before.
    page = result.fill("plan", action="goto:result", plan=NUMBERS["plan"], credit="")
    assert "what-if" not in page.text and "A few answers need checking" in unescape(page.text)
    before = store.snapshot()
    response = result.post(
        "result", {"d": result.token, "comment_hp": "", "action": "adopt:60:3000"}
    )
    assert response.status_code == 400
    assert "Change my numbers" in unescape(response.text)
    assert store.snapshot()["field_values"] == before["field_values"]
