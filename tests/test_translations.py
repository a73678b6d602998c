"""Every message the code and the shopper's pages mark has its Spanish (issue #11, item 6).

The marks are read the way a translator's `pybabel extract -F babel.cfg` reads them, so a
message added in English and forgotten in locale/es fails here, not in front of a shopper.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SPANISH = ROOT / "locale" / "es" / "LC_MESSAGES"
# Messages whose Spanish is rightly the same as the English: a code, a word both share.
SAME_IN_SPANISH = frozenset({"VIN", "OK", "Error:", "Error %(status)s"})
# `{name}` for str.format in the code, `%(name)s` for Jinja's gettext in the templates.
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_][A-Za-z0-9_]*\)[sd]")


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages marked in src/ and templates/, extracted once with the project's babel.cfg
    (through pybabel itself, which reads the mapping's `keywords = lazy`)."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
        + ["-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def spanish() -> dict[str, tuple[str, ...]]:
    """Every Spanish msgstr of every catalogue, by msgid (singular), as resume.i18n merges them."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(SPANISH.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="es"):
                if not message.id:
                    continue
                assert not message.fuzzy, f"{path.name}: fuzzy entry {message.id!r}"
                key = message.id if isinstance(message.id, str) else message.id[0]
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                found[key] = tuple(strings)
    return found


def _ids(message: object) -> tuple[str, ...]:
    ident = message.id  # type: ignore[attr-defined]
    return (ident,) if isinstance(ident, str) else tuple(ident)


def test_every_marked_message_has_spanish(
    marked: Catalog, spanish: dict[str, tuple[str, ...]]
) -> None:
    missing = [
        _ids(m)[0]
        for m in marked
        if m.id and not all(s.strip() for s in spanish.get(_ids(m)[0], ("",)))
    ]
    assert not missing, f"{len(missing)} marked messages have no Spanish: {missing}"


def test_spanish_is_not_left_in_english(
    marked: Catalog, spanish: dict[str, tuple[str, ...]]
) -> None:
    same = [
        _ids(m)[0]
        for m in marked
        if m.id
        and _ids(m)[0] not in SAME_IN_SPANISH
        and _ids(m)[0] in spanish
        and any(s == english for s, english in zip(spanish[_ids(m)[0]], _ids(m), strict=False))
    ]
    assert not same, f"Spanish left as the English: {same}"


def test_spanish_keeps_every_placeholder(
    marked: Catalog, spanish: dict[str, tuple[str, ...]]
) -> None:
    wrong = []
    for message in marked:
        if not message.id or _ids(message)[0] not in spanish:
            continue
        wanted = set(PLACEHOLDER.findall(_ids(message)[-1]))
        for string in spanish[_ids(message)[0]]:
            if string and set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append((_ids(message)[0], string))
    assert not wrong, f"placeholders differ from the English: {wrong}"


def test_no_spanish_for_messages_no_longer_marked(
    marked: Catalog, spanish: dict[str, tuple[str, ...]]
) -> None:
    used = {_ids(m)[0] for m in marked if m.id}
    unused = sorted(set(spanish) - used)
    assert not unused, f"Spanish kept for messages nothing marks any more: {unused}"
