"""Scenarios for reading a VIN a shopper typed on a trade-in form.

The check digit is recomputed here from a table written out by hand, so a wrong entry in the
module's table cannot hide by being copied into its own test. The real VINs come from published
examples: the Wikipedia check-digit example (1M8GDM9AXKP042788) and the sample VINs in the
documentation of NHTSA vPIC clients.
"""

import datetime

import msgspec
import pytest

from resume.calc.vin import Vin, check_vin, cross_check

TODAY = datetime.date(2025, 6, 1)

# fmt: off
LETTER_VALUES = {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
# fmt: on
WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

ACCORD = "1HGCM82633A004352"


def value(ch: str) -> int:
    return int(ch) if ch.isdigit() else LETTER_VALUES[ch]


def expected_check_digit(vin: str) -> str:
    """Work out position 9 by hand: weighted sum of the values, remainder by 11, 10 is X."""
    remainder = sum(value(ch) * weight for ch, weight in zip(vin, WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def make_vin(wmi: str = "1HG", position_7: str = "6", position_10: str = "3") -> str:
    """Build a VIN on the Accord's pattern with the given maker, year code and a valid digit 9."""
    chars = list(wmi + ACCORD[3:])
    chars[6] = position_7
    chars[9] = position_10
    chars[8] = expected_check_digit("".join(chars))
    return "".join(chars)


def check(typed: str) -> Vin:
    result = check_vin(typed, today=TODAY)
    assert isinstance(result, Vin), result
    return result


def refused(typed: str) -> str:
    result = check_vin(typed, today=TODAY)
    assert isinstance(result, str), result
    assert "WMI" not in result
    assert "check digit" not in result.lower()
    return result


# Worked examples


@pytest.mark.parametrize(
    ("text", "digit", "year", "make"),
    [
        (ACCORD, "3", 2003, "Honda"),  # 2003 Honda Accord, the usual textbook VIN
        ("11111111111111111", "1", 2001, None),  # every weight times 1: 89 % 11 == 1
        ("1M8GDM9AXKP042788", "X", 1989, None),  # remainder 10, written X
        ("3C6JR7AT4EG248404", "4", 2014, "Ram"),
        ("WA1A4AFY2J2008189", "2", 2018, "Audi"),
        ("1FTMW1T88MFA00001", "8", 2021, "Ford"),
    ],
)
def test_real_vins_pass_and_decode(text: str, digit: str, year: int, make: str | None) -> None:
    assert text[8] == digit
    assert expected_check_digit(text) == digit
    assert check(text) == Vin(text=text, year=year, make=make)


def test_check_digit_sum_is_worked_out_for_the_accord() -> None:
    # 1*8 + 8*7 + 7*6 + 3*5 + 4*4 + 8*3 + 2*2 + 6*10 + 3*0 + 3*9 + 1*8 + 0*7 + 0*6 + 4*5 + 3*4
    # + 5*3 + 2*2 = 311, and 311 = 28 * 11 + 3.
    assert sum(value(ch) * w for ch, w in zip(ACCORD, WEIGHTS, strict=True)) == 311
    assert check(ACCORD).text == ACCORD


# One character wrong


@pytest.mark.parametrize("text", [ACCORD, "1M8GDM9AXKP042788", "3C6JR7AT4EG248404"])
@pytest.mark.parametrize("position", range(17))
def test_any_single_changed_character_is_caught(text: str, position: int) -> None:
    # A digit with a different value: the weights 2-10 are never a multiple of 11, so the sum moves.
    swapped = str((value(text[position]) + 1) % 10)
    typo = text[:position] + swapped + text[position + 1 :]
    message = refused(typo)
    assert "one character is probably mistyped" in message
    assert "card" in message
    assert "dashboard" in message


# Letters a VIN never uses


def test_letter_o_for_zero_is_pointed_out() -> None:
    message = refused("1HGCM82633AOO4352")
    assert "never use the letters I, O or Q" in message
    assert "where you typed O, you probably mean the digit 0 (zero)" in message
    assert "where you typed I" not in message


def test_letter_i_for_one_is_pointed_out() -> None:
    message = refused("IHGCM82633A004352")
    assert "never use the letters I, O or Q" in message
    assert "where you typed I, you probably mean the digit 1 (one)" in message


def test_letter_q_and_i_together() -> None:
    message = refused("1HGCM8263QA0I4352")
    assert "where you typed I, you probably mean the digit 1 (one)" in message
    assert "where you typed Q, you probably mean the digit 0 (zero)" in message


def test_lowercase_o_is_caught_too() -> None:
    assert "never use the letters I, O or Q" in refused("1hgcm82633ao04352")


# Length


@pytest.mark.parametrize(("typed", "count"), [(ACCORD[:-1], 16), (ACCORD + "7", 18), ("1HG", 3)])
def test_wrong_length_says_how_many_and_where_to_look(typed: str, count: int) -> None:
    message = refused(typed)
    assert f"A VIN has 17 letters and numbers, and you typed {count}." in message
    assert "driver's side of the dashboard" in message
    assert "windshield" in message
    assert "door jamb" in message
    assert "registration or insurance card" in message


def test_spaces_and_hyphens_do_not_count_toward_the_length() -> None:
    message = refused("1HG-CM8 2633A00435")
    assert "you typed 16." in message


@pytest.mark.parametrize("typed", ["", "   ", "\t\n", " - - "])
def test_empty_asks_for_the_vin(typed: str) -> None:
    message = refused(typed)
    assert "17 letters and numbers" in message
    assert "door jamb" in message


# Tidying what was typed


@pytest.mark.parametrize(
    "typed",
    [
        "1hgcm82633a004352",
        "1HGCM 82633A004352",
        "  1HGCM82633A004352\n",
        "1HG-CM826-33A00-4352",
        "1hg cm8 263 3a0 043 52",
        "1HGCM82633A004352\u00a0",  # no-break space pasted from a web page
    ],
)
def test_case_spaces_and_hyphens_give_the_same_vin(typed: str) -> None:
    assert check(typed) == Vin(text=ACCORD, year=2003, make="Honda")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("\uff11HGCM82633A004352", "\uff11"),  # full-width 1 from a phone keyboard
        ("1HGCM8263\u0663A004352", "\u0663"),  # Arabic-Indic three
        ("1HGCM82633A00435\u017f", "\u017f"),  # long s: upper-cases to a plain S
        ("1HGCM82633A00435!", "!"),
        ("1HGCM.82633A004352", "."),  # 18 long, but the dot is the thing to fix
    ],
)
def test_other_characters_are_refused_and_named(typed: str, shown: str) -> None:
    message = refused(typed)
    assert "only of the plain letters A to Z and digits 0 to 9" in message
    assert f'"{shown}"' in message


# Model year


@pytest.mark.parametrize(
    ("position_7", "position_10", "year"),
    [
        ("6", "3", 2003),  # digit in 7: the 1980-2009 cycle
        ("A", "3", 2003),  # 2033 is years away, so the earlier cycle
        ("6", "A", 1980),
        ("A", "A", 2010),  # letter in 7: the 2010-2039 cycle
        ("6", "R", 1994),
        ("A", "R", 2024),
        ("K", "S", 2025),
        ("A", "T", 2026),  # next year's models are already on sale
        ("A", "V", 1997),  # 2027 is too far ahead
        ("6", "Y", 2000),
        ("A", "Y", 2000),  # 2030 is too far ahead
        ("6", "1", 2001),
        ("6", "9", 2009),
        ("Z", "9", 2009),  # 2039 is too far ahead
    ],
)
def test_model_year_from_position_10(position_7: str, position_10: str, year: int) -> None:
    assert check(make_vin(position_7=position_7, position_10=position_10)).year == year


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (datetime.date(2024, 12, 31), 1996),
        (datetime.date(2025, 1, 1), 2026),
        (datetime.date(2040, 1, 1), 2026),
    ],
)
def test_today_decides_how_far_ahead_a_year_may_be(today: datetime.date, year: int) -> None:
    result = check_vin(make_vin(position_7="A", position_10="T"), today=today)
    assert isinstance(result, Vin)
    assert result.year == year


def test_today_defaults_to_the_real_date() -> None:
    codes = "ABCDEFGHJKLMNPRSTVWXY123456789"
    next_year = datetime.date.today().year + 1
    code = codes[(next_year - 2010) % 30]
    result = check_vin(make_vin(position_7="A", position_10=code))
    assert isinstance(result, Vin)
    assert result.year == next_year
    far = codes[(next_year + 1 - 2010) % 30]
    result = check_vin(make_vin(position_7="A", position_10=far))
    assert isinstance(result, Vin)
    assert result.year == next_year + 1 - 30


@pytest.mark.parametrize("code", ["U", "Z", "0"])
def test_unused_year_codes_leave_the_year_unknown(code: str) -> None:
    result = check(make_vin(position_10=code))
    assert result.year is None
    assert result.make == "Honda"


# Make


@pytest.mark.parametrize(
    ("wmi", "make"),
    [
        ("4T1", "Toyota"),
        ("JTH", "Lexus"),
        ("1HG", "Honda"),
        ("JH4", "Acura"),
        ("1FT", "Ford"),
        ("5LM", "Lincoln"),
        ("1G1", "Chevrolet"),
        ("1GT", "GMC"),
        ("1GY", "Cadillac"),
        ("5GA", "Buick"),
        ("2A4", "Chrysler"),
        ("2B3", "Dodge"),
        ("1J4", "Jeep"),
        ("3C6", "Ram"),
        ("1N4", "Nissan"),
        ("JNK", "Infiniti"),
        ("5NP", "Hyundai"),
        ("KNA", "Kia"),
        ("KMT", "Genesis"),
        ("JF2", "Subaru"),
        ("JM1", "Mazda"),
        ("3VW", "Volkswagen"),
        ("WAU", "Audi"),
        ("WBA", "BMW"),
        ("WDD", "Mercedes-Benz"),
        ("5YJ", "Tesla"),
        ("YV1", "Volvo"),
        ("JA4", "Mitsubishi"),
        ("WP0", "Porsche"),
    ],
)
def test_make_from_the_first_three_characters(wmi: str, make: str) -> None:
    assert check(make_vin(wmi=wmi)).make == make


@pytest.mark.parametrize(
    "wmi",
    [
        "111",  # not a maker at all
        "JN1",  # Nissan or Infiniti
        "KMH",  # Hyundai or an early Genesis
        "1C4",  # Chrysler, Dodge or Jeep
        "JF1",  # Subaru or the Subaru-built Toyota 86
    ],
)
def test_unknown_or_shared_makers_leave_the_make_unknown(wmi: str) -> None:
    result = check(make_vin(wmi=wmi))
    assert result.make is None
    assert result.year == 2003


# Comparing with what the shopper typed elsewhere


def test_agreeing_year_and_make_give_no_advice() -> None:
    assert cross_check(check(ACCORD), 2003, "Honda") == []


def test_year_mismatch_is_advice() -> None:
    assert cross_check(check(ACCORD), 2004, "Honda") == [
        "This VIN is for a 2003, but the year says 2004. Check one of them."
    ]


def test_make_mismatch_is_advice() -> None:
    assert cross_check(check(ACCORD), 2003, "Toyota") == [
        "This VIN is for a Honda, but the make says Toyota. Check one of them."
    ]


def test_both_mismatches_are_listed() -> None:
    assert cross_check(
        check(make_vin(wmi="WAU", position_7="F", position_10="J")), 2019, "BMW"
    ) == [
        "This VIN is for a 2018, but the year says 2019. Check one of them.",
        "This VIN is for an Audi, but the make says BMW. Check one of them.",
    ]


@pytest.mark.parametrize(
    ("wmi", "typed"),
    [
        ("1HG", "honda"),
        ("1HG", "  HONDA "),
        ("1G1", "Chevy"),
        ("1G1", "chevy"),
        ("1G1", "Chevrolet"),
        ("3VW", "VW"),
        ("3VW", "Volkswagen"),
        ("WDD", "Mercedes"),
        ("WDD", "Mercedes Benz"),
        ("WDD", "mercedes-benz"),
        ("WDD", "MercedesBenz"),
    ],
)
def test_make_is_compared_loosely(wmi: str, typed: str) -> None:
    assert cross_check(check(make_vin(wmi=wmi)), None, typed) == []


def test_a_nickname_is_not_a_wildcard() -> None:
    advice = cross_check(check(make_vin(wmi="1G1")), None, "VW")
    assert advice == ["This VIN is for a Chevrolet, but the make says VW. Check one of them."]


@pytest.mark.parametrize(("year", "make"), [(None, None), (None, ""), (None, "  ")])
def test_nothing_typed_gives_no_advice(year: int | None, make: str | None) -> None:
    assert cross_check(check(ACCORD), year, make) == []


def test_unknown_year_or_make_in_the_vin_gives_no_advice() -> None:
    vin = check(make_vin(wmi="111", position_10="U"))
    assert cross_check(vin, 2003, "Honda") == []


def test_vin_is_frozen() -> None:
    vin = check(ACCORD)
    with pytest.raises(AttributeError):
        vin.year = 2004  # type: ignore[misc]
    assert msgspec.json.decode(msgspec.json.encode(vin), type=Vin) == vin
