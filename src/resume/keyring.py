"""The key ring that seals the personal data the widgets mark sensitive (design rule 6).

Values are sealed with Fernet (AES-128-CBC with HMAC-SHA256: authenticated, with a random IV per
value) from the `cryptography` package, under keys from RESUME_DATA_KEYS, newest last. Any key
in the list opens a value; only the newest seals. `resume keys rotate` (resume.datakeys)
re-seals everything with the newest key, after which the older ones can be dropped.

Pure: no database, no global. Whoever reads or writes sealed values is handed the ring that
was built from the settings (issue #8: the ring used to be a process-wide global).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from resume.errors import ConfigError


class DataKeyError(ConfigError):
    """The data keys cannot open what this database holds."""


def parse_keys(value: str) -> tuple[str, ...]:
    """Split RESUME_DATA_KEYS and check each key is a Fernet key, naming the bad one."""
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ValueError("needs at least one key")
    for position, key in enumerate(keys, 1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(
                f"key {position} is not 32 bytes of URL-safe base64 "
                "(make one with `resume keys new`)"
            )
    return keys


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """Seal with the newest key; open with any."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError("RESUME_DATA_KEYS holds no key")
        self.keys = keys
        # MultiFernet seals with its first key: ours is the last.
        self._all = MultiFernet([Fernet(k) for k in reversed(keys)])
        self._newest = Fernet(keys[-1])

    def seal(self, text: str) -> str:
        return self._all.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._all.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise DataKeyError(
                "A stored personal value can't be opened with RESUME_DATA_KEYS: the key that "
                "sealed it is missing from the list, or the value was altered."
            ) from None

    def reseal(self, sealed: str) -> str:
        """Return the value sealed under the newest key (the same value, a new token)."""
        try:
            return self._all.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DataKeyError(
                "A stored personal value can't be opened with RESUME_DATA_KEYS, so it can't "
                "be re-sealed: add the key it was sealed with to the list and run again."
            ) from None

    def opens_with_newest(self, sealed: str) -> bool:
        try:
            self._newest.decrypt(sealed.encode("ascii"))
        except InvalidToken:
            return False
        return True
