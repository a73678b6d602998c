"""Vehicle identification numbers: tidy what a shopper typed, check it, and read the year and make.

Everything here is offline and follows the North American rules (49 CFR 565): a 17-character
VIN, a check digit in position 9, the model year in position 10 and the manufacturer in
positions 1-3. Problems come back as plain sentences a shopper can act on, not as exceptions,
because a mistyped VIN is an everyday event on a trade-in form.
"""

import datetime
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from resume.i18n import _, lazy

_LENGTH = 17
_WHERE = lazy(
    "You can find it on the driver's side of the dashboard (look through the windshield), "
    "on the driver's door jamb, or on the registration or insurance card."
)

# Letters stand for numbers in the check-digit sum; I, O and Q never appear in a VIN.
_LETTER_VALUES: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys("AJ", 1),
        **dict.fromkeys("BKS", 2),
        **dict.fromkeys("CLT", 3),
        **dict.fromkeys("DMU", 4),
        **dict.fromkeys("ENV", 5),
        **dict.fromkeys("FW", 6),
        **dict.fromkeys("GPX", 7),
        **dict.fromkeys("HY", 8),
        **dict.fromkeys("RZ", 9),
    }
)
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LOOKALIKES: Mapping[str, str] = MappingProxyType(
    {
        "I": lazy("the digit 1 (one)"),
        "O": lazy("the digit 0 (zero)"),
        "Q": lazy("the digit 0 (zero)"),
    }
)

# Position 10 repeats every 30 years: A = 1980 or 2010, ..., Y = 2000 or 2030, 1 = 2001 or 2031,
# ..., 9 = 2009 or 2039. U, Z and 0 are never used, nor are I, O and Q.
_YEAR_CODES: Mapping[str, int] = MappingProxyType(
    {code: 1980 + i for i, code in enumerate("ABCDEFGHJKLMNPRSTVWXY123456789")}
)
_CYCLE = 30

# The brand behind a world manufacturer identifier (positions 1-3). Only identifiers that name
# one brand are listed. Left out on purpose, because two brands share them: JF1 (Subaru, and the
# Toyota 86 / Scion FR-S built by Subaru), KMH (Hyundai, and the 2017-2020 Genesis G80 and G90),
# JN1, JN8 and 5N1 (Nissan and Infiniti), the Chrysler group's 1C3, 1C4, 1C6, 2C3, 2C4 and 3C4
# (Chrysler, Dodge, Jeep and Ram), and 1D7 and 3D7 (Dodge until the 2011 Ram rebrand).
_MAKES: Mapping[str, str] = MappingProxyType(
    {
        # Toyota and Lexus
        "JT2": "Toyota",
        "JTD": "Toyota",
        "JTE": "Toyota",
        "2T1": "Toyota",
        "2T3": "Toyota",
        "3TM": "Toyota",
        "4T1": "Toyota",
        "5TF": "Toyota",
        "5YF": "Toyota",
        "JT8": "Lexus",
        "JTH": "Lexus",
        "JTJ": "Lexus",
        "2T2": "Lexus",
        "58A": "Lexus",
        # Honda and Acura
        "1HG": "Honda",
        "19X": "Honda",
        "2HG": "Honda",
        "2HK": "Honda",
        "5FN": "Honda",
        "5J6": "Honda",
        "JHL": "Honda",
        "JHM": "Honda",
        "SHH": "Honda",
        "19U": "Acura",
        "2HN": "Acura",
        "5FR": "Acura",
        "5J8": "Acura",
        "JH4": "Acura",
        # Ford and Lincoln
        "1FA": "Ford",
        "1FM": "Ford",
        "1FT": "Ford",
        "1ZV": "Ford",
        "2FA": "Ford",
        "2FM": "Ford",
        "3FA": "Ford",
        "3FM": "Ford",
        "3FT": "Ford",
        "NM0": "Ford",
        "1LN": "Lincoln",
        "2LM": "Lincoln",
        "3LN": "Lincoln",
        "5LM": "Lincoln",
        # General Motors
        "1G1": "Chevrolet",
        "1GC": "Chevrolet",
        "1GN": "Chevrolet",
        "2G1": "Chevrolet",
        "2GN": "Chevrolet",
        "3G1": "Chevrolet",
        "3GC": "Chevrolet",
        "3GN": "Chevrolet",
        "KL7": "Chevrolet",
        "KL8": "Chevrolet",
        "1GK": "GMC",
        "1GT": "GMC",
        "2GK": "GMC",
        "2GT": "GMC",
        "3GK": "GMC",
        "3GT": "GMC",
        "1G6": "Cadillac",
        "1GY": "Cadillac",
        "3GY": "Cadillac",
        "1G4": "Buick",
        "2G4": "Buick",
        "5GA": "Buick",
        "KL4": "Buick",
        # Chrysler group, where the identifier names one brand
        "2A4": "Chrysler",
        "2A8": "Chrysler",
        "3A4": "Chrysler",
        "3A8": "Chrysler",
        "1B3": "Dodge",
        "1B4": "Dodge",
        "1B7": "Dodge",
        "2B3": "Dodge",
        "2D4": "Dodge",
        "1J4": "Jeep",
        "1J8": "Jeep",
        "3C6": "Ram",
        # Nissan and Infiniti
        "1N4": "Nissan",
        "1N6": "Nissan",
        "3N1": "Nissan",
        "5N3": "Infiniti",
        "JNK": "Infiniti",
        "JNR": "Infiniti",
        # Hyundai, Kia and Genesis
        "5NP": "Hyundai",
        "KM8": "Hyundai",
        "3KP": "Kia",
        "5XX": "Kia",
        "5XY": "Kia",
        "KNA": "Kia",
        "KND": "Kia",
        "KMT": "Genesis",
        "KMU": "Genesis",
        # Subaru and Mazda
        "4S3": "Subaru",
        "4S4": "Subaru",
        "JF2": "Subaru",
        "1YV": "Mazda",
        "3MZ": "Mazda",
        "JM1": "Mazda",
        "JM3": "Mazda",
        # Volkswagen group
        "1V2": "Volkswagen",
        "1VW": "Volkswagen",
        "3VV": "Volkswagen",
        "3VW": "Volkswagen",
        "WVG": "Volkswagen",
        "WVW": "Volkswagen",
        "TRU": "Audi",
        "WA1": "Audi",
        "WAU": "Audi",
        "WUA": "Audi",
        "WP0": "Porsche",
        "WP1": "Porsche",
        # BMW and Mercedes-Benz
        "4US": "BMW",
        "5UX": "BMW",
        "5YM": "BMW",
        "WBA": "BMW",
        "WBS": "BMW",
        "WBX": "BMW",
        "WBY": "BMW",
        "4JG": "Mercedes-Benz",
        "55S": "Mercedes-Benz",
        "W1K": "Mercedes-Benz",
        "W1N": "Mercedes-Benz",
        "WDB": "Mercedes-Benz",
        "WDC": "Mercedes-Benz",
        "WDD": "Mercedes-Benz",
        # Others
        "5YJ": "Tesla",
        "7SA": "Tesla",
        "7JR": "Volvo",
        "YV1": "Volvo",
        "YV4": "Volvo",
        "4A3": "Mitsubishi",
        "4A4": "Mitsubishi",
        "JA3": "Mitsubishi",
        "JA4": "Mitsubishi",
        "ML3": "Mitsubishi",
    }
)

# What shoppers call a make, keyed by the squeezed form _squeeze() gives.
_MAKE_NICKNAMES: Mapping[str, str] = MappingProxyType(
    {"chevy": "chevrolet", "vw": "volkswagen", "mercedes": "mercedesbenz"}
)


class Vin(msgspec.Struct, frozen=True):
    """A VIN that passed every check: upper case, 17 characters; year and make None if unknown."""

    text: str
    year: int | None
    make: str | None


def check_vin(typed: str, *, today: datetime.date | None = None) -> Vin | str:
    """Return the decoded VIN, or a sentence telling the shopper what to fix.

    The model year follows the rule for cars and light trucks sold in North America (a letter in
    position 7 means 2010 or later), then steps back 30 years if that lands after next year.
    `today` pins "next year" for tests; it defaults to the real date.
    """
    # Checked before upper-casing: str.upper() turns some non-ASCII letters into ASCII ones.
    cleaned = "".join(ch for ch in typed if not ch.isspace() and ch != "-")
    if not cleaned:
        return _("Please type the VIN: 17 letters and numbers. {where}").format(where=_WHERE)
    strange = [ch for ch in cleaned if not (ch.isascii() and ch.isalnum())]
    if strange:
        shown = ", ".join(f'"{ch}"' for ch in dict.fromkeys(strange))
        return _(
            "A VIN is made only of the plain letters A to Z and digits 0 to 9, "
            "so it can't contain {characters}. Please check what you typed."
        ).format(characters=shown)
    text = cleaned.upper()
    if len(text) != _LENGTH:
        return _("A VIN has 17 letters and numbers, and you typed {count}. {where}").format(
            count=len(text), where=_WHERE
        )
    never = [ch for ch in "IOQ" if ch in text]
    if never:
        guesses = "; ".join(
            _("where you typed {letter}, you probably mean {digit}").format(
                letter=ch, digit=_LOOKALIKES[ch]
            )
            for ch in never
        )
        return _(
            "VINs never use the letters I, O or Q, so they can't be mistaken for 1 and 0: "
            "{guesses}."
        ).format(guesses=guesses)
    if text[8] != _check_digit(text):
        return _(
            "This VIN doesn't add up, so one character is probably mistyped. "
            "Please check it against the registration or insurance card, or the dashboard."
        )
    return Vin(text=text, year=_model_year(text, today or datetime.date.today()), make=_make(text))


def _check_digit(text: str) -> str:
    total = sum(
        (int(ch) if ch.isdigit() else _LETTER_VALUES[ch]) * weight
        for ch, weight in zip(text, _WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def _model_year(text: str, today: datetime.date) -> int | None:
    # The position-7 rule holds for cars, SUVs, vans and light trucks (up to 10,000 lb) sold in
    # North America: a letter there means 2010-2039, a digit 1980-2009. Other vehicles need not
    # follow it, so a year past next year's models (on sale since autumn) takes the earlier cycle.
    year = _YEAR_CODES.get(text[9])
    if year is None:
        return None
    if text[6].isalpha():
        year += _CYCLE
    if year > today.year + 1:
        year -= _CYCLE
    return year


def _make(text: str) -> str | None:
    return _MAKES.get(text[:3])


def _squeeze(make: str) -> str:
    squeezed = "".join(ch for ch in make.casefold() if not ch.isspace() and ch != "-")
    return _MAKE_NICKNAMES.get(squeezed, squeezed)


def cross_check(vin: Vin, year: int | None, make: str | None) -> list[str]:
    """Return advice for each typed year or make that the VIN disagrees with."""
    advice = []
    if year is not None and vin.year is not None and year != vin.year:
        advice.append(
            _("This VIN is for a {vin_year}, but the year says {year}. Check one of them.").format(
                vin_year=vin.year, year=year
            )
        )
    if make and make.strip() and vin.make is not None and _squeeze(make) != _squeeze(vin.make):
        # "a" or "an" is part of the sentence, so each language words it whole.
        if vin.make.startswith(tuple("AEIOU")):
            message = _(
                "This VIN is for an {vin_make}, but the make says {make}. Check one of them."
            )
        else:
            message = _(
                "This VIN is for a {vin_make}, but the make says {make}. Check one of them."
            )
        advice.append(message.format(vin_make=vin.make, make=make.strip()))
    return advice
