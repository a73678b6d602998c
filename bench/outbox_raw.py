"""The outbox bench's baseline: build the queued messages and send them, with no database.

    python bench/outbox_raw.py --smtp-port P      # RESUME_* settings from the environment

Before the clock starts it reads every pending outbox row, its dealer and its draft, the way
the worker does (the same query modules, so sealed values are opened as the worker opens
them). Then, timed, for each row in id order: `Composer.build(message, dealer, draft)` (the
composer `run_worker` makes) and `SMTP.send_message` on one aiosmtplib connection, kept open
for the whole run. That is the work a worker cannot avoid; the worker adds the claim, the
reads at send, and the writes of the outcome.

With `--parts` it then times the two halves apart, on the same rows: building only, and
sending only (the EmailMessage objects built beforehand, so aiosmtplib's serialization is
in "send"), and sending bytes flattened beforehand (`sendmail`: SMTP alone).

Prints one JSON object on stdout; outbox.py starts it pinned to the worker's core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from typing import Any

import aiosmtplib
from aiosmtplib.email import flatten_message

from resume.catalog import Catalog
from resume.datakeys import prepare
from resume.db import Database
from resume.mail import Composer
from resume.queries import dealers as dealers_q
from resume.queries import drafts as drafts_q
from resume.queries import outbox as outbox_q
from resume.settings import Settings
from resume.tokens import Signer

HOST = "127.0.0.1"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def load(settings: Settings, limit: int) -> list[tuple[Any, Any, Any]]:
    """(message, dealer, draft) for every pending message, read as the worker reads them."""
    db = Database(settings)
    try:
        ring = await prepare(db, settings.data_keys)
        async with db.read() as conn:
            messages = sorted(
                await outbox_q.with_status(conn, "pending", limit=limit), key=lambda m: m.id
            )
            dealers = {d: await dealers_q.get(conn, d) for d in {m.dealer_id for m in messages}}
            drafts = {
                d: await drafts_q.load(conn, d, ring=ring) for d in {m.draft_id for m in messages}
            }
    finally:
        await db.dispose()
    return [(m, dealers[m.dealer_id], drafts[m.draft_id]) for m in messages]


def timed(count: int, cpu0: float, wall0: float) -> dict[str, float]:
    wall = time.perf_counter() - wall0
    return {"messages": count, "seconds": wall, "per_s": count / wall, "cpu": cpu() - cpu0}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env()
    rows = await load(settings, args.limit)
    composer = Composer(settings, Signer(settings.secret_keys), Catalog.load())
    smtp = aiosmtplib.SMTP(hostname=HOST, port=args.smtp_port, timeout=20)
    await smtp.connect()
    result: dict[str, Any] = {"messages": len(rows)}
    try:
        # The baseline itself: what the worker must do for each message, nothing else.
        composer.build(*rows[0])  # templates compiled outside the clock, as a worker's are
        # The heap settled as `resume worker` settles its own (resume.heap; done here with the
        # stdlib, so that a `--code` checkout from before resume.heap runs the same baseline).
        gc.collect()
        gc.freeze()
        cpu0, wall0 = cpu(), time.perf_counter()
        result["started"] = time.monotonic()
        for message, dealer, draft in rows:
            await smtp.send_message(composer.build(message, dealer, draft))
        result["loop"] = timed(len(rows), cpu0, wall0)
        if args.parts:
            cpu0, wall0 = cpu(), time.perf_counter()
            built = [composer.build(m, dealer, draft) for m, dealer, draft in rows]
            result["build"] = timed(len(rows), cpu0, wall0)
            cpu0, wall0 = cpu(), time.perf_counter()
            for email in built:
                await smtp.send_message(email)
            result["send"] = timed(len(rows), cpu0, wall0)
            flat = [
                (str(e["To"]), flatten_message(e)) for e in built
            ]  # the bytes send_message makes
            cpu0, wall0 = cpu(), time.perf_counter()
            for to_addr, data in flat:
                await smtp.sendmail(settings.mail_from, [to_addr], data)
            result["send_bytes"] = timed(len(rows), cpu0, wall0)
            result["message_bytes"] = sum(len(data) for _, data in flat) / len(flat)
    finally:
        await smtp.quit()
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--parts", action="store_true", help="also time build and send apart")
    return parser.parse_args(argv)


if __name__ == "__main__":
    json.dump(asyncio.run(main(parse_args())), sys.stdout)
    sys.stdout.write("\n")
