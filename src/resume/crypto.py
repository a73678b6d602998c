"""Encryption at rest of the personal data the widgets mark sensitive (design rule 6).

Values are sealed with Fernet (AES-128-CBC with HMAC-SHA256: authenticated, with a random IV per
value) from the `cryptography` package, under keys from RESUME_DATA_KEYS, newest last. Any key
in the list opens a value; only the newest seals. `resume keys rotate` re-seals everything
with the newest key, after which the older ones can be dropped.

The keys are process-wide, like the logging configuration: one process serves one database
with one key list. `install` sets them at start-up; the storage code calls `keyring()`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection

from resume.db import Database
from resume.errors import ConfigError

log = logging.getLogger("resume.crypto")

# Sealed under the newest key when a database first meets its keys; opening it at start-up
# tells a wrong or missing key apart from garbage before any shopper's value is read.
CHECK_NAME = "data_key_check"
CHECK_TEXT = "resume data key check"


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


_installed: Keyring | None = None


def install(keys: tuple[str, ...]) -> Keyring:
    global _installed
    _installed = Keyring(keys)
    return _installed


def keyring() -> Keyring:
    if _installed is None:
        raise ConfigError("the data keys were not loaded (resume.crypto.install)")
    return _installed


def check_database(conn: Connection, ring: Keyring) -> str:
    """Check the keys against the database's key check, sealing one on first meeting.

    Returns "new", "current" or "rotate" (opened by an older key: `resume keys rotate` is due).
    A check no key opens is a start-up error that says what to do, never garbage later.
    """
    from resume.queries import sealed as sealed_q

    stored = sealed_q.get_meta(conn, CHECK_NAME)
    if stored is None:
        # Two processes meeting a new database at once: the first check written stands, and
        # the other is checked against it like any later start.
        sealed_q.add_meta(conn, CHECK_NAME, ring.seal(CHECK_TEXT))
        stored = sealed_q.get_meta(conn, CHECK_NAME)
        if stored is not None and ring.opens_with_newest(stored):
            return "new"
    if stored is None:
        raise DataKeyError("the data key check could not be stored; is the database writable?")
    try:
        opened = ring.open(stored)
    except DataKeyError:
        opened = None
    if opened != CHECK_TEXT:
        raise DataKeyError(
            "RESUME_DATA_KEYS does not hold the key this database's personal data was "
            "encrypted with. Set it to the keys in use (newest last); if you are rotating, "
            "keep the old key in the list until `resume keys rotate` has finished."
        )
    return "current" if ring.opens_with_newest(stored) else "rotate"


async def rotate(
    db: Database, ring: Keyring, progress: Callable[[int, int], None], *, page: int = 500
) -> int:
    """Re-seal every value the newest key can't open, a page per transaction, until a full
    pass finds none (a process still running with the old key list may seal a value behind
    the pass); return how many were re-sealed. Safe to stop and run again. The key check is
    re-sealed last, so until then the old key stays required."""
    from resume.queries import sealed as sealed_q

    total = await db.run_write(sealed_q.count_sealed)
    done = 0

    def values_page(
        conn: Connection, after: tuple[str, str] | None
    ) -> tuple[tuple[str, str] | None, int]:
        rows = sealed_q.sealed_values_after(conn, after, page)
        stale = [r for r in rows if not ring.opens_with_newest(r.value)]
        sealed_q.reseal_values(
            conn,
            [
                {
                    "b_draft": r.draft_id,
                    "b_name": r.name,
                    "b_old": r.value,
                    "b_value": ring.reseal(r.value),
                }
                for r in stale
            ],
        )
        return ((rows[-1].draft_id, rows[-1].name) if rows else None), len(stale)

    def results_page(conn: Connection, after: str | None) -> tuple[str | None, int]:
        rows = sealed_q.sealed_results_after(conn, after, page)
        stale = [r for r in rows if not ring.opens_with_newest(r.result)]
        sealed_q.reseal_results(
            conn,
            [
                {"b_draft": r.draft_id, "b_old": r.result, "b_value": ring.reseal(r.result)}
                for r in stale
            ],
        )
        return (rows[-1].draft_id if rows else None), len(stale)

    while True:
        found = 0
        position: tuple[str, str] | None = None
        while True:
            position, count = await db.run_write(values_page, position)
            found += count
            done += count
            if count:
                progress(done, total)
            if position is None:
                break
        last: str | None = None
        while True:
            last, count = await db.run_write(results_page, last)
            found += count
            done += count
            if last is None:
                break
        if not found:
            break
    await db.run_write(lambda conn: sealed_q.put_meta(conn, CHECK_NAME, ring.seal(CHECK_TEXT)))
    return done


async def prepare(db: Database, keys: tuple[str, ...]) -> Keyring:
    """Install the keys for this process and check them against the database."""
    ring = install(keys)
    state = await db.run_write(check_database, ring)
    if state == "rotate":
        log.warning(
            "the data keys' check was sealed with an older key: run `resume keys rotate`, "
            "then drop the old key from RESUME_DATA_KEYS"
        )
    return ring
