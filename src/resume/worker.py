"""The outbox loop: claim due messages, send them outside any transaction, record the outcome.

This is the first part (issue #2). Claims use a lease so a worker that dies leaves its messages
to be picked up again once the lease runs out; the cadence, suppression and multi-worker
guarantees of issue #4 extend this loop rather than replace it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import signal
import socket
import time

import aiosmtplib
from sqlalchemy.exc import DBAPIError

from resume import metrics
from resume.cadence import detect_exits, within_hours
from resume.catalog import Catalog
from resume.claimed import Batch
from resume.datakeys import prepare
from resume.db import Database, unavailable
from resume.dealers import Dealer
from resume.errors import NotFound, Unavailable
from resume.keyring import Keyring
from resume.mail import Composer, Transport, stops, transport_for
from resume.queries import drafts as drafts_q
from resume.queries import outbox as outbox_q
from resume.queries import suppressions as suppressions_q
from resume.queries.outbox import Message
from resume.retention import purge_database
from resume.settings import Settings
from resume.tokens import Signer

log = logging.getLogger("resume.worker")

COUNT_EVERY = 15.0  # seconds between counts of the outbox for the metrics
EXIT_CHECK = dt.timedelta(seconds=30)  # how often a worker looks for shoppers who left
PURGE_EVERY = dt.timedelta(hours=1)  # how often a worker deletes drafts past retention
# A claimed batch must be sent well within its lease, even if every message is slow; otherwise
# another worker could claim and send it again. Each message gets 1/(BATCH + 1) of the lease,
# and a message that cannot start with a full share left goes back to the queue.
BATCH = 5
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30.0  # seconds; doubles per attempt
BACKOFF_CAP = 3600.0


def backoff(attempt: int) -> dt.timedelta:
    """Return the wait before retry `attempt`: capped exponential, with full jitter."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempt - 1, 0))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# Beyond the lease and the poll, how late a pass may begin before /readyz says the worker
# has stalled: an exit check or the hourly purge run in a pass too.
HEARTBEAT_SLACK = 60.0


class Worker:
    def __init__(
        self,
        db: Database,
        composer: Composer,
        transport: Transport,
        ring: Keyring,
        *,
        poll_seconds: float = 1.0,
        lease_seconds: float = 120.0,
    ) -> None:
        self.db = db
        self.composer = composer
        self.ring = ring
        self.transport = transport
        self.poll_seconds = poll_seconds
        self.lease = dt.timedelta(seconds=lease_seconds)
        # The most one message may take, connecting and every SMTP command included.
        self.send_budget = lease_seconds / (BATCH + 1)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.wake = asyncio.Event()
        self.heartbeat = time.monotonic()
        self._last_exit_check: dt.datetime | None = None
        self._last_purge: dt.datetime | None = None
        self._last_count: float | None = None

    def beating(self) -> bool:
        """Whether the loop began a pass lately: a pass is bounded by its lease (each message
        gets a share of it), and the wait between passes by the poll."""
        limit = self.lease.total_seconds() + self.poll_seconds + HEARTBEAT_SLACK
        return time.monotonic() - self.heartbeat <= limit

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; the message in flight is finished first."""
        log.info("worker %s started", self.owner)
        down = False
        try:
            while not stop.is_set():
                # /readyz reads it: a pass that never ends (a hung socket past every
                # timeout, a stuck database call) stops the beat.
                self.heartbeat = time.monotonic()
                # Cleared before the pass, not after it: a wake that comes while the pass runs
                # (a save queuing an alert after the claim looked) must end the wait below,
                # or the mail waits a whole poll.
                self.wake.clear()
                try:
                    sent = await self.run_once(stop=stop)
                except Exception as exc:
                    # Only the database's errors: a mail server's refusal is an OSError too.
                    down_now = isinstance(exc, Unavailable) or (
                        isinstance(exc, DBAPIError) and unavailable(exc)
                    )
                    if not down_now:
                        log.exception("worker pass failed")
                    elif not down:
                        # Down, restarting, full: said once, then tried again every poll until
                        # it answers (the pool opens fresh connections), no restart (#12).
                        log.warning(
                            "worker %s: database unavailable (%s); retrying every %g s",
                            self.owner, type(exc.__cause__ or exc).__name__, self.poll_seconds,
                        )  # fmt: skip
                        down = True
                    if down:
                        await self.db.reconnect()
                    sent = 0
                else:
                    if down:
                        log.warning("worker %s: database back", self.owner)
                        down = False
                if sent:
                    continue
                waits = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self.wake.wait()),
                ]
                await asyncio.wait(
                    waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waits:
                    waiter.cancel()
        finally:
            await self.transport.close()
            log.info("worker %s stopped", self.owner)

    async def run_once(
        self, now: dt.datetime | None = None, stop: asyncio.Event | None = None
    ) -> int:
        """Find new exits now and then, claim one batch and deliver it; return how many
        messages were handled. `now` is for tests that move the clock."""
        given = now
        now = now or dt.datetime.now(dt.UTC)
        if self._last_exit_check is None or now - self._last_exit_check >= EXIT_CHECK:
            self._last_exit_check = now
            if self._last_purge is None or now - self._last_purge >= PURGE_EVERY:
                # Retention first, and a stop rule too: a purged draft's queued mail is
                # stopped, and a draft past retention is never found to have just left.
                self._last_purge = now
                settings = self.composer.settings
                kept = "" if settings.smtp_url else settings.mail_dir
                await purge_database(self.db, now=now, mail_dir=kept)
            await detect_exits(
                self.db, self.composer.settings, self.composer.catalog, self.ring, now
            )
            if given is None:
                now = dt.datetime.now(dt.UTC)  # the lease starts when the claim is made
        async with self.db.write() as conn:
            messages = await outbox_q.claim(
                conn, owner=self.owner, now=now, lease=self.lease, limit=BATCH
            )
        claimed = time.monotonic()
        lease = self.lease.total_seconds()
        batch = Batch(self.db)
        try:
            if messages:
                # What the batch's messages are built from, read once: two statements for
                # the batch, not two a message (issue #14); each is checked again at send.
                async with batch.reads.begin() as conn:
                    wanted = {m.draft_id for m in messages if m.draft_id is not None}
                    batch.drafts = await drafts_q.load_many(conn, wanted, ring=self.ring)
            for index, message in enumerate(messages):
                stopping = stop is not None and stop.is_set()
                late = time.monotonic() - claimed > lease - 1.5 * self.send_budget
                if stopping or late:
                    # SIGTERM, or a slow server ate the lease: the message in flight was
                    # finished; the rest go back at once, before another worker claims them.
                    async with self.db.write() as conn:
                        await outbox_q.release(conn, [m.id for m in messages[index:]])
                    return index
                await self._deliver(message, now, batch)
        finally:
            await batch.close()
        await self._count_outbox()
        return len(messages)

    async def _count_outbox(self) -> None:
        """The outbox's rows by status, for the metrics: after the first pass, then at most
        every COUNT_EVERY (an index-only count, not one per message)."""
        moment = time.monotonic()
        if self._last_count is not None and moment - self._last_count < COUNT_EVERY:
            return
        self._last_count = moment
        async with self.db.read() as conn:
            for status, count in (await outbox_q.counts(conn)).items():
                metrics.OUTBOX.labels(status).set(count)

    async def _deliver(self, message: Message, now: dt.datetime, batch: Batch) -> None:
        started = time.perf_counter()
        dealer = None
        try:
            async with batch.reads.begin() as conn:
                dealer = await batch.dealer(conn, message.dealer_id)
                # Checked again at send: an unsubscribe, a return or a staff action may have
                # come after the claim (rule 7).
                now_is = await outbox_q.recheck(conn, message)
                draft = await batch.draft(conn, message, now_is, self.ring)
                # A lead the CRM has had before is sent as an update of it.
                resend = message.kind == "adf" and await outbox_q.sent_before(conn, message)
                about = await stops.about(conn, message, draft)
            stopped = now_is.suppressed
            outcome = "suppressed" if stopped else stops.stopped(message, draft, about, dealer)
            if outcome:
                async with self.db.write() as conn:
                    await outbox_q.mark_status(conn, message.id, outcome)
                _log(message, outcome, started)
                return
            if dealer is None:
                raise LookupError(f"dealer {message.dealer_id} is gone")
            email = self.composer.build(message, dealer, draft, resend=resend, about=about)
            async with asyncio.timeout(self.send_budget):
                reply = await self.transport.send(email)
        except Exception as exc:
            await self._failed(message, exc, started, dealer, now)
            return
        async with batch.writes.begin() as conn:
            await outbox_q.mark_sent(
                conn, message, now=dt.datetime.now(dt.UTC), reply=str(reply)[:500]
            )
        _log(message, "sent", started)

    async def _failed(
        self,
        message: Message,
        exc: Exception,
        started: float,
        dealer: Dealer | None,
        now: dt.datetime,
    ) -> None:
        # A 5xx reply, or a message that cannot be built (its draft or dealer is gone), will
        # not get better by waiting.
        permanent = (
            (isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500)
            or isinstance(exc, LookupError | NotFound)
            or _refused_for_good(exc)
        )
        last = permanent or message.attempts >= MAX_ATTEMPTS
        retry_at = None if last else now + backoff(message.attempts)
        if retry_at is not None and message.kind == "followup" and dealer is not None:
            # A retried touch still waits for the dealer's sending hours.
            retry_at = within_hours(retry_at, dealer.config.sending_hours, dealer.timezone)
        error = f"{type(exc).__name__}: {exc}"
        async with self.db.write() as conn:
            await outbox_q.mark_failed(conn, message.id, error=error, retry_at=retry_at)
            if _refused_for_good(exc):
                # 550 user unknown and the like: never email the address again.
                await suppressions_q.add(
                    conn, message.dealer_id, message.to_addr, "bounce", detail=error
                )
        _log(message, "dead" if last else "retry", started, error)


def _refused_for_good(exc: Exception) -> bool:
    """Whether the server refused the recipient permanently (5xx on RCPT)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return exc.code >= 500
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return any(refused.code >= 500 for refused in exc.recipients)
    return False


def _log(message: Message, outcome: str, started: float, error: str = "") -> None:
    # Every line has the same fields (style rule 12); never the address or the body.
    took = round((time.perf_counter() - started) * 1000, 1)
    metrics.SENDS.labels(message.kind, outcome).inc()
    if outcome == "sent":
        metrics.SEND_SECONDS.labels(message.kind).observe(took / 1000)
    log.info(
        "message=%s attempt=%d outcome=%s duration_ms=%.1f%s",
        message.id,
        message.attempts,
        outcome,
        took,
        f" error={error!r}" if error else "",
        extra={
            "message_id": message.id,
            "attempt": message.attempts,
            "outcome": outcome,
            "duration_ms": took,
        },
    )


async def run_worker(
    settings: Settings, *, stop: asyncio.Event | None = None, install_signals: bool = False
) -> None:
    """Run one worker until `stop` is set (or SIGTERM/SIGINT with `install_signals`)."""
    db = Database(settings)
    composer = Composer(settings, Signer(settings.secret_keys), Catalog.load())
    worker = Worker(
        db,
        composer,
        transport_for(settings),
        await prepare(db, settings.data_keys),
        poll_seconds=settings.worker_poll_seconds,
        lease_seconds=settings.worker_lease_seconds,
    )
    stop = stop or asyncio.Event()
    if install_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    try:
        await worker.run(stop)
    finally:
        await db.dispose()
