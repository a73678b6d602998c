"""Health for load balancers and uptime monitors: `/healthz` says the process lives and its
database answers, `/readyz` that it is ready to take shoppers (issue #13)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from resume import metrics
from resume.db import Unavailable
from resume.errors import NotFound
from resume.migrations import database_revision
from resume.web.services import services

PLAIN = {"Cache-Control": "no-store"}


@get("/healthz")
async def healthz(request: Request[Any, Any, Any]) -> Response[str]:
    """Answer load balancers (and, as HEAD, uptime monitors): the writer is running and the
    database answers."""
    svc = services(request)
    if not svc.autosave.running:
        return Response(
            "autosave writer stopped\n",
            status_code=503,
            media_type="text/plain",
            headers={"Cache-Control": "no-store"},
        )
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    return Response("ok\n", media_type="text/plain", headers={"Cache-Control": "no-store"})


@get("/readyz")
async def readyz(request: Request[Any, Any, Any]) -> Response[str]:
    """Ready when the database answers, its schema is the one this version needs, the
    autosave writer runs and, where this process runs a worker, the worker's loop is beating.
    503 with the reason otherwise: a deploy waits for it, a load balancer routes around it."""
    svc = services(request)
    checks: list[tuple[str, bool, str]] = []
    try:
        async with svc.db.read() as conn:
            found = await database_revision(conn)
    except (Unavailable, OSError) as exc:
        checks.append(("database", False, f"not answering ({type(exc.__cause__ or exc).__name__})"))
    else:
        checks.append(("database", True, "answers"))
        if found == svc.schema_revision:
            checks.append(("schema", True, f"at {found}"))
        else:
            checks.append(
                (
                    "schema",
                    False,
                    f"at {found or 'nothing'}, this version needs {svc.schema_revision}: "
                    "run `resume migrate`",
                )
            )
    checks.append(
        ("autosave writer", svc.autosave.running, "running" if svc.autosave.running else "stopped")
    )
    if svc.worker is not None:
        beating = svc.worker.beating()
        checks.append(("worker", beating, "beating" if beating else "stalled"))
    ready = all(ok for _, ok, _ in checks)
    lines = [f"{name}: {'ok' if ok else 'NOT READY'}, {why}" for name, ok, why in checks]
    return Response(
        ("ready\n" if ready else "not ready\n") + "\n".join(lines) + "\n",
        status_code=200 if ready else 503,
        media_type="text/plain",
        headers=PLAIN,
    )


@get("/metrics")
async def metrics_page(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus metrics, for a scraper holding RESUME_METRICS_TOKEN; not there without it."""
    token = services(request).settings.metrics_token
    if not token:
        raise NotFound()
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            b"A bearer token is needed: Authorization: Bearer <RESUME_METRICS_TOKEN>\n",
            status_code=401,
            media_type="text/plain",
            headers={**PLAIN, "WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers=PLAIN)
