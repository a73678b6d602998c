"""What every part of the account service shares: its dependencies, the clock, and the
password hashing kept off the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt

from resume.db import Database
from resume.keyring import Keyring
from resume.settings import Settings
from resume.staff import passwords
from resume.tokens import Signer


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# An argon2id hash costs about 0.17 s and 64 MiB (resume.staff.passwords): done in a thread, a
# few at a time, so sign-ins never stall the event loop that serves the widgets.
_HASHING = asyncio.Semaphore(2)


async def verify(stored: str | None, password: str) -> bool:
    async with _HASHING:
        return await asyncio.to_thread(
            passwords.verify_password, stored or passwords.DUMMY_HASH, password
        )


async def hash_password(password: str) -> str:
    async with _HASHING:
        return await asyncio.to_thread(passwords.hash_password, password)


class Service:
    """The account service's parts; `now` may be passed to every method so tests control the
    clock."""

    def __init__(self, settings: Settings, db: Database, ring: Keyring, signer: Signer) -> None:
        self.settings = settings
        self.db = db
        self.ring = ring
        self.signer = signer
