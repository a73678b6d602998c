"""The Litestar application factory: `create_app(settings)`, no globals (style rule 6)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State

from resume.crypto import prepare
from resume.mail import transport_for
from resume.settings import Settings
from resume.web import links, pages, unsubscribe, widget
from resume.web.errors import render_error
from resume.web.services import Services
from resume.worker import Worker

log = logging.getLogger("resume.web")


def create_app(settings: Settings, *, run_worker: bool = False) -> Litestar:
    """Build the app; with `run_worker` an outbox worker runs in the same process."""
    svc = Services(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await prepare(svc.db, settings.data_keys)
        await svc.autosave.start()
        stop = asyncio.Event()
        task = None
        if run_worker:
            worker = Worker(
                svc.db,
                svc.composer,
                transport_for(settings),
                poll_seconds=settings.worker_poll_seconds,
                lease_seconds=settings.worker_lease_seconds,
            )
            svc.worker_wake = worker.wake
            task = asyncio.create_task(worker.run(stop), name="resume-worker")
        try:
            yield
        finally:
            stop.set()
            if task:
                await task
            await svc.autosave.stop()
            await svc.db.dispose()

    return Litestar(
        route_handlers=[
            widget.first_step,
            widget.show_step,
            widget.save_step,
            links.open_link,
            links.renew_link,
            links.renew_sent,
            pages.stylesheet,
            pages.healthz,
            pages.healthz_head,
            unsubscribe.unsubscribe_page,
            unsubscribe.unsubscribe,
            pages.demo_page,
            pages.mail_list,
            pages.mail_show,
            pages.mail_html,
        ],
        lifespan=[lifespan],
        state=State({"services": svc}),
        exception_handlers={Exception: render_error},
        request_max_body_size=settings.max_body_bytes,
        openapi_config=None,
        debug=False,
    )
