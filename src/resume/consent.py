"""Consent as it is recorded: the words agreed to, their version, when and from where
(design rule 7). Follow-up consent is a box in a widget's form; the credit check's is the
"I agree" under its notice (resume.kinds.credit). Both are stored the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from resume import i18n
from resume.fields import CHECKED

# The follow-up consent box, wherever a widget asks it (a contact step or "save for later").
FOLLOWUP_FIELD = "consent_followup"


class Client(msgspec.Struct, frozen=True):
    """Who sent a request, as a consent records it: the address the server trusts and the
    browser's own description."""

    ip: str
    user_agent: str


class _Typed(Protocol):
    @property
    def valid(self) -> bool: ...

    @property
    def value(self) -> Any: ...


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(
    kind: str, text: str, client: Client, *, version: str = "", language: str = ""
) -> dict[str, Any]:
    """Return the consent row for `text` as shown; without a version, its hash names it.
    `language` is the language of the words, the shopper's own unless said (issue #11)."""
    digest = text_hash(text)
    return {
        "language": language or i18n.current(),
        "kind": kind,
        "text_version": version or digest[:12],
        "text_hash": digest,
        "text": text,
        "ip": client.ip[:64],
        "user_agent": client.user_agent[:500],
    }


def ticked(stored: _Typed | None) -> bool:
    """Whether a stored answer to a consent box is a tick: only a valid, checked one counts."""
    if stored is None or not stored.valid:
        return False
    value = stored.value
    return value is True or (isinstance(value, str) and value.strip().lower() in CHECKED)


def follows_up(values: Mapping[str, _Typed]) -> bool:
    """Whether the shopper's follow-up box is ticked now (an untick withdraws it)."""
    return ticked(values.get(FOLLOWUP_FIELD))
