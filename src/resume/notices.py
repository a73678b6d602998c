"""Our default notices, in each language we serve (issue #11, item 6).

A dealer may write its own (resume.dealers.Credit); these are the words it starts with. Each
language's text has its own version id, stored with every consent given under it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from babel.dates import format_skeleton

from resume import i18n

FCRA_NOTICE = (
    'By pressing "I agree" below, you understand that you are providing written '
    "instructions to {dealer} under the Fair Credit Reporting Act, authorizing {dealer} to "
    "obtain information from your personal credit profile or other information from a "
    "consumer reporting agency, solely to pre-qualify you for financing of a vehicle. This is "
    "a soft inquiry: it does not affect your credit score and is not an application for "
    "credit. The estimate you see is not an offer of credit; any offer depends on a full "
    "application and the lender's approval."
)

# The same notice in Spanish, for Spanish-speaking shoppers in the US: the same meaning,
# written as a person reads it, not word for word.
FCRA_NOTICE_ES = (
    'Al presionar "Acepto" a continuación, usted entiende que está dando instrucciones por '
    "escrito a {dealer}, conforme a la Ley de Informe Justo de Crédito (Fair Credit Reporting "
    "Act), y que autoriza a {dealer} a obtener información de su perfil de crédito personal u "
    "otra información de una agencia de informes de crédito del consumidor, únicamente para "
    "saber si usted precalifica para el financiamiento de un vehículo. Esta es una consulta "
    "suave: no afecta su puntaje de crédito y no es una solicitud de crédito. El estimado que "
    "usted ve no es una oferta de crédito; cualquier oferta depende de una solicitud completa y "
    "de la aprobación del prestamista."
)

# A notice version that ends in its year and month, like fcra-2026-11 (issue #11, item 4).
_VERSION_MONTH = re.compile(r"(?:^|[^0-9])((?:19|20)[0-9]{2})-(0[1-9]|1[0-2])$")


class Shown(NamedTuple):
    """A notice as one shopper is shown it: the words, the version stored with the consent,
    the language of the words, and whether they are not in the shopper's own language."""

    text: str
    version: str
    language: str
    untranslated: bool


def shown(english: str, spanish: str, version: str, lang: str) -> Shown:
    """The notice for a shopper speaking `lang`. Our own words come in every language, each
    with its own version (`fcra-2026-11-es`); a dealer's own words need its own Spanish, or
    the Spanish shopper is shown the English and told so (issue #11, item 6)."""
    if lang == "es":
        if english == FCRA_NOTICE and FCRA_NOTICE_ES:
            return Shown(FCRA_NOTICE_ES, _suffixed(version, "es"), "es", False)
        if spanish:
            return Shown(spanish, _suffixed(version, "es"), "es", False)
        return Shown(english, version, "en", True)
    return Shown(english, version, "en", False)


def _suffixed(version: str, lang: str) -> str:
    """The version of a translation: the English version's, with its language, as long as
    versions may be (32 characters)."""
    return f"{version[: 32 - len(lang) - 1]}-{lang}"


def month_of(notice_date: str, version: str) -> dt.date | None:
    """The first of the month the notice's words date from, if it says: its date, else a
    version that ends in its year and month."""
    if notice_date:
        try:
            return dt.date.fromisoformat(notice_date).replace(day=1)
        except ValueError:
            return None
    found = _VERSION_MONTH.search(version.removesuffix("-es"))
    return dt.date(int(found.group(1)), int(found.group(2)), 1) if found else None


def dated(notice_date: str, version: str) -> str:
    """The notice's version as shoppers read it, in their language: "Version of November
    2026", "Versión de noviembre de 2026"; "" when it has no date."""
    month = month_of(notice_date, version)
    if month is None:
        return ""
    lang = i18n.current()
    # CLDR's "month and year" in the shopper's language: "November 2026", "noviembre de 2026".
    written = format_skeleton("yMMMM", month, locale=i18n.LOCALES.get(lang, "en_US"))
    return i18n.gettext("Version of {month}").format(month=written)
