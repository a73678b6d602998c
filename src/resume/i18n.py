"""The languages shoppers are served in, and the words of each (issue #11, item 6).

The code and the templates write English and mark it: `_("Enter a year.")` in Python,
`{% trans %}…{% endtrans %}` or `_("…")` in a template. The Spanish for each marked message
is in `locale/es/LC_MESSAGES/*.po` (gettext catalogues, kept with Babel: `pybabel extract`
finds the marks, see docs/translating.md); the widgets' own copy is in `widgets/es/*.toml`
(resume.definitions). Every `.po` file of a language is read into one catalogue when first
needed, so the code's messages and the pages' words can be kept in separate files.

The language of the moment is a context variable, set once per request (resume.web) or per
message sent (resume.mail): code deep in a check says `_(…)` without being handed a language.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext as stdlib_gettext
import io
import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy

from resume.resources import data_dir

DEFAULT = "en"
# Each language we can serve, named in itself: how a shopper recognises their own.
LANGUAGES = {"en": "English", "es": "Español"}
# What staff, who read English, call each one.
IN_ENGLISH = {"en": "English", "es": "Spanish"}
# Babel's locale for dates and the like, per language: US Spanish, not Spain's.
LOCALES = {"en": "en_US", "es": "es_US"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def current() -> str:
    """The language of what is being made now."""
    return _current.get()


def set_language(lang: str) -> contextvars.Token[str]:
    """Make `lang` the language of the rest of this request or task; `restore` the token to
    go back to the one before."""
    return _current.set(lang if lang in LANGUAGES else DEFAULT)


def restore(token: contextvars.Token[str]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Make `lang` the language inside the block, and the one before it after."""
    token = set_language(lang)
    try:
        yield
    finally:
        restore(token)


@cache
def translations(lang: str) -> stdlib_gettext.NullTranslations:
    """Every catalogue of `lang` read into one; English, the source language, has none."""
    folder = data_dir() / "locale" / lang / "LC_MESSAGES"
    merged: stdlib_gettext.NullTranslations = stdlib_gettext.NullTranslations()
    for path in sorted(folder.glob("*.po")) if lang != DEFAULT else ():
        with path.open("rb") as po:
            catalogue = read_po(po, locale=lang)
        compiled = io.BytesIO()
        write_mo(compiled, catalogue, use_fuzzy=False)
        compiled.seek(0)
        found = stdlib_gettext.GNUTranslations(compiled)
        found.add_fallback(merged)
        merged = found
    return merged


def gettext(message: str) -> str:
    """`message` in the current language (English when it has no translation)."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int | str) -> str:
    """The singular or the plural of `message` for `n`, which may be a count as text (a
    page's figure): gettext's plural rules take whole numbers only."""
    return translations(_current.get()).ngettext(singular, plural, int(n))


_ = gettext


def lazy(message: str) -> LazyProxy:
    """A message translated each time it is shown, for constants made at import time."""
    return LazyProxy(gettext, message, enable_cache=False)


# One entry of an Accept-Language header: a tag and an optional quality.
_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$"
)


def from_header(header: str | None) -> tuple[str, ...]:
    """The primary languages an Accept-Language header asks for, best first. A header that
    can't be read asks for nothing, so it never breaks a page."""
    return _ranked((header or "")[:1000])


# Every request reads the header three times (the app's entry, the dealer's languages, the
# page's addresses) and a browser sends the same one on every request: parsed once, it cost
# 1 % of the server's Python in issue #14's profile. Bounded, since the header is the client's.
@lru_cache(maxsize=512)
def _ranked(header: str) -> tuple[str, ...]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:40]):
        match = _RANGE.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if 0 < quality <= 1:
            ranked.append((-quality, position, match.group(1).split("-")[0].lower()))
    return tuple(tag for _, _, tag in sorted(ranked))


def choose(asked: str | None, header: str | None, offered: Iterable[str]) -> str:
    """The language to serve: the one asked for by name (`?lang=es`) if offered, else the
    browser's first offered preference, else the first offered."""
    offered = [lang for lang in offered if lang in LANGUAGES] or [DEFAULT]
    wanted = (asked or "").strip().lower()[:8]
    if wanted in offered:
        return wanted
    for tag in from_header(header):
        if tag in offered:
            return tag
        if tag == "*":
            break
    return offered[0]
