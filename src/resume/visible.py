"""Shopper text as staff should read it: characters that hide or reorder text shown.

A name typed as "\u202eevil\u202c" carries a right-to-left override: harmless in a header, but it
can disguise what a rep reads in a subject line. Wherever staff read shopper text (subjects,
alerts, ADF, the dashboard), and in the shopper's own email, such characters are written out
as [U+202E]; what was typed stays stored as typed (issue #12).
"""

from __future__ import annotations

import re

# Bidirectional embeddings, overrides and isolates; the invisible marks and joiners that can
# hide text; and every C0/C1 control but tab and line breaks.
_HIDDEN = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060\ufeff"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def visible(text: str) -> str:
    """Return `text` with every hiding or reordering character written out, like [U+202E]."""
    if not _HIDDEN.search(text):
        return text
    return _HIDDEN.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)
