"""Staff passwords: argon2id hashes, and the rules a new password must meet.

The rules follow NIST SP 800-63B section 5.1.1.2: a length floor and no composition rules,
refusing only what is known to be guessed first (common passwords, the account's own name,
one character repeated). Text is NFKC-normalised before it is counted or hashed, so the same
password typed on another keyboard or device still matches.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2-cffi's defaults (RFC 9106's second recommended option): argon2id, 64 MiB of memory,
# 3 passes, 4 lanes, a 16-byte salt and a 32-byte hash. That is above OWASP's minimum for
# argon2id (19 MiB, 2 passes, 1 lane). One hash takes about 0.17 s on our 2-core machines.
_hasher = PasswordHasher()


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def hash_password(text: str) -> str:
    """Hash a password for storage (argon2id, with a fresh random salt)."""
    return _hasher.hash(_normalised(text))


def verify_password(stored_hash: str, text: str) -> bool:
    """Say whether the password matches the stored hash; a malformed hash is just a no."""
    try:
        return _hasher.verify(stored_hash, _normalised(text))
    except (VerificationError, InvalidHashError, UnicodeError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Say whether a hash was made with weaker parameters than today's, so it is redone.

    Call it after a successful sign-in, while the password is at hand. A hash we can't read
    also needs redoing.
    """
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, UnicodeError):
        return True


# Checked against when the email names no account (or one with no password yet), so that a
# sign-in costs the same time whether or not the email exists: timing must not tell an
# attacker which addresses have accounts. Made here, with today's parameters, so its cost
# follows the real hashes when those parameters change. Its password is thrown away.
DUMMY_HASH = hash_password(secrets.token_urlsafe(32))


@functools.cache
def _common() -> frozenset[str]:
    # zxcvbn's "passwords" list: the 30,000 most frequent passwords of the Xato ten-million
    # corpus, lower-cased, as Dropbox's zxcvbn ships it. Imported here rather than at the top
    # because importing zxcvbn builds all its dictionaries (about 70 ms). It ships no types.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(text: str, *, email: str = "") -> str | None:
    """Return what is wrong with a new password, in words for the person choosing it, or None."""
    password = _normalised(text)
    if len(password) < MIN_LENGTH:
        return (
            f"Use at least {MIN_LENGTH} characters. A few unrelated words make a password "
            "that is long and easy to remember."
        )
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if len(set(password)) == 1:
        return "Don't use one character repeated: it is among the first things tried."
    folded = password.casefold()
    local = _normalised(email.rpartition("@")[0] or email).casefold()
    if len(local) >= 4 and local in folded:
        return "Don't use your email address, or part of it, in your password."
    if password.lower() in _common():
        return "This is one of the most common passwords, so it is among the first tried."
    return None
