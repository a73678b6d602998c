"""Recovery codes: single-use codes that stand in for TOTP when the phone is lost.

Shown once, then only their hashes are stored; using one marks its row used.
"""

from __future__ import annotations

import hashlib
import secrets

# Crockford's base32: no i, l, o or u, so nothing reads as another symbol, aloud or on paper.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
GROUP = 4
GROUPS = 4
# 16 symbols of 32 is 80 bits a code. 60 would do against guessing at the sign-in form, but
# the hashes are unsalted, so whoever copies the table attacks every code at once: 80 bits
# keeps that out of reach too.
BITS = GROUP * GROUPS * 5

# What people type for the letters the alphabet leaves out (Crockford's decoding).
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1", "-": None, " ": None})


def new_codes(count: int = 10) -> list[str]:
    """Make `count` fresh codes like `7k2m-9xqa-...`, all different."""
    codes: set[str] = set()
    while len(codes) < count:
        symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * GROUPS))
        codes.add("-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP)))
    return sorted(codes)


def code_hash(code: str) -> str:
    """Return what is stored for a code: its SHA-256, after normalising what was typed.

    Case, spaces and dashes don't matter, nor o for 0 or i and l for 1. A plain SHA-256 is
    enough (no argon2): each code holds 80 random bits, far beyond any guessing, where a
    password needs a slow hash because it is guessable.
    """
    normal = "".join(code.split()).lower().translate(_LOOKALIKES)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()
