"""The write path of a step: one writer per process that commits concurrent saves together.

A plain async transaction per request spends most of a step's time in the database layer
(shared/design.md, "Measured"). Here each request hands its save to one writer task and waits;
the writer takes everything that queued up while the previous commit ran, applies it in a single
transaction, commits, and only then acknowledges each request (issue #2: no acknowledged save
is lost, at SQLite's documented durability). A save that fails on its own (a revoked link, a
step not reached) fails alone; a batch the database refuses is retried one save at a time.

The writer also keeps the state it just committed, so the GET that follows a save's redirect
renders without reading the database. A cached draft is used only when the revision in the
page's credential matches it, so several processes on PostgreSQL never serve a stale draft.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict

from resume import metrics
from resume.autosave.batch import Save, View
from resume.autosave.plan import write_batch
from resume.db import Database
from resume.errors import ResumeError, Unavailable
from resume.keyring import Keyring
from resume.queries import drafts as drafts_q
from resume.queries.drafts import DraftState

__all__ = ["Autosave", "Save", "View"]

log = logging.getLogger("resume.autosave")

# The most saves one transaction takes. The writer commits as soon as the previous commit
# ends and never holds a save back for a bigger batch; this bounds what one commit makes each
# of its requests wait for. At 128 connections the batch grew to about 60 saves, every one
# answered only when all 60 were committed (issue #14); at 32 connections batches are 13-16.
MAX_BATCH = 32
# Step views waiting before the writer wakes for them alone.
MAX_VIEWS = 256
# Step views are funnel statistics: losing the last second of them in a crash is acceptable,
# a commit per page view is not.
VIEW_FLUSH_SECONDS = 1.0
# How long a page may be rendered from the copy a save left, without reading the database.
PAGE_CACHE_SECONDS = 3.0


class Autosave:
    """Group-committing writer of step saves, with a cache of what it committed."""

    def __init__(
        self,
        db: Database,
        ring: Keyring,
        *,
        cache_size: int = 20_000,
        draft_limit: int | None = None,
        count: bool = False,
    ) -> None:
        self.db = db
        self.ring = ring
        # Keep the save metrics (resume.metrics): only when something serves them.
        self.count = count
        # Saves a minute for one draft, counted in the batch's own transaction (several
        # processes on PostgreSQL); None when the web layer counts them in process.
        self.draft_limit = draft_limit
        self._pending: list[tuple[Save, asyncio.Future[DraftState]]] = []
        self._views: list[View] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._cache: OrderedDict[str, DraftState] = OrderedDict()
        self._cached_at: dict[str, float] = {}
        self._cache_size = cache_size

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="resume-autosave")

    async def stop(self) -> None:
        """Commit what is queued, then end the writer."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def save(self, save: Save) -> DraftState:
        """Queue a save and return the draft's state once it is committed."""
        if not self.running:
            raise Unavailable("We couldn't save just now. Please try again in a minute.")
        future: asyncio.Future[DraftState] = asyncio.get_running_loop().create_future()
        queued = time.perf_counter()
        self._pending.append((save, future))
        self._wake.set()
        state = await future
        if self.count:
            metrics.SAVE_SECONDS.observe(time.perf_counter() - queued)
            metrics.STEPS_SAVED.labels(save.widget).inc()
        return state

    def record_view(self, view: View) -> None:
        """Note a step view for the funnel; written with the next batch of saves (or within
        VIEW_FLUSH_SECONDS), never a transaction of its own per page."""
        self._views.append(view)
        if len(self._views) >= MAX_VIEWS:
            self._wake.set()

    async def state(self, draft_id: str, revision: int | None = None) -> DraftState | None:
        """Return the draft, from the cache when `revision` says it is current and the copy
        is seconds old: the page a save redirects to. Anything older is read again, so a
        change made elsewhere (a revocation, another process) shows within PAGE_CACHE_SECONDS.
        """
        cached = self._cache.get(draft_id)
        if (
            cached is not None
            and revision is not None
            and cached.revision == revision
            and time.monotonic() - self._cached_at.get(draft_id, 0.0) < PAGE_CACHE_SECONDS
        ):
            self._cache.move_to_end(draft_id)
            return cached
        async with self.db.read() as conn:
            found = await drafts_q.load(conn, draft_id, ring=self.ring)
        if found is not None:
            self._remember(found)
        return found

    def _remember(self, state: DraftState) -> None:
        self._cache[state.id] = state
        self._cached_at[state.id] = time.monotonic()
        self._cache.move_to_end(state.id)
        while len(self._cache) > self._cache_size:
            gone, _ = self._cache.popitem(last=False)
            self._cached_at.pop(gone, None)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), VIEW_FLUSH_SECONDS)
            self._wake.clear()
            while self._pending or self._views:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                views, self._views = self._views, []
                try:
                    await self._flush(batch, views)
                except Exception:  # the writer must outlive any one batch
                    log.exception("autosave batch failed unexpectedly")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(Unavailable("We couldn't save just now."))
            if self._stopping:
                return

    async def _flush(
        self, batch: list[tuple[Save, asyncio.Future[DraftState]]], views: list[View]
    ) -> None:
        try:
            results = await self._commit([save for save, _ in batch], views)
        except Unavailable as exc:
            # The database is down, full or read-only: every save of the batch fails alike, so
            # none is retried alone, and the log says why in a line, not a traceback per save.
            log.warning(
                "database unavailable; %d saves refused, %d views dropped: %s",
                len(batch), len(views), type(exc.__cause__ or exc).__name__,
            )  # fmt: skip
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except Exception:
            if len(batch) > 1 or (batch and views):
                # One bad save must not sink the others: try each alone, then the views.
                log.exception("batch of %d saves failed; retrying one at a time", len(batch))
                for item in batch:
                    await self._flush([item], [])
                if views:
                    await self._flush([], views)
                return
            if not batch:
                # Views are statistics: dropping them beats retrying a failing database.
                log.exception("dropped %d step views", len(views))
                return
            log.exception("save failed")
            results = None
        if self.count and results is not None and batch:
            metrics.SAVES_PER_BATCH.observe(len(batch))
        for index, (_, future) in enumerate(batch):
            if future.done():
                continue
            outcome = results[index] if results is not None else None
            if isinstance(outcome, DraftState):
                self._remember(outcome)
                future.set_result(outcome)
            elif isinstance(outcome, ResumeError):
                future.set_exception(outcome)
            else:
                future.set_exception(
                    Unavailable("We couldn't save just now. Please press the button again.")
                )

    async def _commit(self, saves: list[Save], views: list[View]) -> list[DraftState | ResumeError]:
        # The cache is the event loop's; the batch runs in the database's own thread, so it
        # gets a copy of the entries it may use.
        cached = {s.draft_id: self._cache[s.draft_id] for s in saves if s.draft_id in self._cache}
        return await self.db.run_write(
            write_batch, saves, views, cached, self.ring, self.draft_limit
        )
