"""The Litestar application factory: `create_app(settings)`, no globals (style rule 6)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar
from litestar.datastructures import State

from resume import i18n, logs, metrics
from resume.catalog import Catalog
from resume.datakeys import verify
from resume.mail import transport_for
from resume.settings import Settings
from resume.web import (
    demo,
    health,
    lean_steps,
    logo,
    mailbox,
    resume_links,
    steps,
    stylesheet,
    unsubscribe,
)
from resume.web.dashboard import (
    audit,
    auth,
    branding,
    dealership,
    exports,
    funnel,
    leads,
    mail,
    operations,
    staffing,
    team,
)
from resume.web.errors import render_error
from resume.web.security import HEAD, secure_headers
from resume.web.services import Services
from resume.worker import Worker

log = logging.getLogger("resume.web")
# One line a request, at INFO: method, route (its template, no ids), status and duration.
access = logging.getLogger("resume.access")
# Methods counted by name in the metrics; any other is "other", so a client can't make labels.
METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"})


class App(Litestar):
    """Litestar, with an id for every request and a line in the access log for it, and
    answering HEAD on every GET route: the GET's status and headers, no body, and nothing
    recorded (a link scanner's HEAD is not a visit; issue #12)."""

    # Count requests in resume.metrics: only when something serves them (create_app says).
    count = False
    # What the routes share; the step's own routes are handed it (resume.web.lean_steps).
    services: Services

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method = scope["method"]
        if method == "HEAD":
            scope = {**scope, "method": "GET", HEAD: True}
            send = _no_body(send)
        context = logs.Context(logs.new_request_id())
        reset = logs.REQUEST.set(context)
        # A shopper's page, or its error, in their language until the dealer's is known
        # (resume.web.visit); staff pages are in English.
        spoken = i18n.set_language(_language(scope))
        started = time.perf_counter()
        status = [0]
        try:
            send = _with_request_id(send, context.id, status)
            step = lean_steps.taken(scope)
            if step is None:
                await super().__call__(scope, receive, send)
            else:
                await lean_steps.answer(self, self.services, step, scope, receive, send)
        finally:
            took_s = time.perf_counter() - started
            route = scope.get("path_template") or "(no route)"
            if self.count:
                shown = method if method in METHODS else "other"
                metrics.REQUESTS.labels(route, shown, str(status[0])).inc()
                metrics.REQUEST_SECONDS.labels(route).observe(took_s)
            if access.isEnabledFor(logging.INFO):
                took = round(took_s * 1000, 2)
                access.info(
                    "%s %s %s %.1f ms",
                    method,
                    route,
                    status[0],
                    took,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status[0],
                        "duration_ms": took,
                    },
                )
            logs.REQUEST.reset(reset)
            i18n.restore(spoken)


def _language(scope: Any) -> str:
    if scope["path"].startswith("/dashboard"):
        return i18n.DEFAULT
    asked = ""
    query = scope.get("query_string", b"")
    if b"lang=" in query:
        asked = dict(parse_qsl(query.decode("latin-1"))).get("lang", "")
    header = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
    return i18n.choose(asked, header.decode("latin-1"), i18n.LANGUAGES)


def _with_request_id(send: Any, request_id: str, status: list[int]) -> Any:
    """Send with the request's id in an X-Request-Id header, noting the status sent."""
    header = (b"x-request-id", request_id.encode())

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
            message["headers"] = [*(message.get("headers") or ()), header]
        await send(message)

    return sending


def _no_body(send: Any) -> Any:
    async def without_body(message: Any) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body"):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return without_body


def create_app(
    settings: Settings, *, run_worker: bool = False, catalog: Catalog | None = None
) -> Litestar:
    """Build the app; with `run_worker` an outbox worker runs in the same process. `catalog`
    is the widgets to serve, ours unless told (a test adds one of its own)."""
    svc = Services(settings, catalog)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await verify(svc.db, svc.ring)
        await svc.autosave.start()
        stop = asyncio.Event()
        task = None
        if run_worker:
            worker = Worker(
                svc.db,
                svc.composer,
                transport_for(settings),
                svc.ring,
                poll_seconds=settings.worker_poll_seconds,
                lease_seconds=settings.worker_lease_seconds,
            )
            svc.worker_wake = worker.wake
            svc.worker = worker
            task = asyncio.create_task(worker.run(stop), name="resume-worker")
        try:
            yield
        finally:
            stop.set()
            if task:
                await task
            await svc.autosave.stop()
            await svc.db.dispose()

    app = App(
        route_handlers=[
            steps.first_step,
            steps.show_step,
            steps.save_step,
            resume_links.open_link,
            resume_links.renew_link,
            resume_links.renew_sent,
            stylesheet.stylesheet,
            logo.logo,
            health.healthz,
            health.readyz,
            health.metrics_page,
            unsubscribe.unsubscribe_page,
            unsubscribe.unsubscribe,
            demo.demo_page,
            mailbox.mail_list,
            mailbox.mail_show,
            mailbox.mail_html,
            stylesheet.dashboard_stylesheet,
            auth.home,
            auth.login_page,
            auth.login,
            auth.code_page,
            auth.code,
            auth.logout,
            auth.invite_page,
            auth.choose_password,
            auth.enrol_page,
            auth.enrol,
            auth.account_page,
            auth.account_action,
            leads.lead_list,
            leads.lead_page,
            leads.lead_action,
            audit.audit_page,
            operations.outbox_page,
            operations.outbox_action,
            operations.suppressions_page,
            operations.suppression_add,
            operations.suppression_remove,
            *dealership.ROUTES,
            *branding.ROUTES,
            *staffing.ROUTES,
            *mail.ROUTES,
            *exports.ROUTES,
            *team.ROUTES,
            *funnel.ROUTES,
        ],
        lifespan=[lifespan],
        state=State({"services": svc}),
        exception_handlers={Exception: render_error},
        before_send=[secure_headers],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=None,
        # Logging is resume.logs's (text or JSON, set up by the command), not Litestar's own.
        logging_config=None,
        debug=False,
    )
    app.count = settings.metrics_on
    app.services = svc
    return app
