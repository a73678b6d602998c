"""The data keys against the database: the key check at start-up, and rotation.

The ring itself (resume.keyring) is pure; this module is what reads and writes the database
with it, which is why the two are apart (issue #8: together they made an import circle with
the settings).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from resume.db import Database
from resume.keyring import DataKeyError, Keyring
from resume.queries import sealed as sealed_q

log = logging.getLogger("resume.datakeys")

# Sealed under the newest key when a database first meets its keys; opening it at start-up
# tells a wrong or missing key apart from garbage before any shopper's value is read.
CHECK_NAME = "data_key_check"
CHECK_TEXT = "resume data key check"


def check_database(conn: Connection, ring: Keyring) -> str:
    """Check the keys against the database's key check, sealing one on first meeting.

    Returns "new", "current" or "rotate" (opened by an older key: `resume keys rotate` is due).
    A check no key opens is a start-up error that says what to do, never garbage later.
    """
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


async def verify(db: Database, ring: Keyring) -> None:
    """Check `ring` against the database; say so in the log when a rotation is due."""
    state = await db.run_write(check_database, ring)
    if state == "rotate":
        log.warning(
            "the data keys' check was sealed with an older key: run `resume keys rotate`, "
            "then drop the old key from RESUME_DATA_KEYS"
        )


async def prepare(db: Database, keys: tuple[str, ...]) -> Keyring:
    """Return the key ring for `keys`, checked against the database."""
    ring = Keyring(keys)
    await verify(db, ring)
    return ring
