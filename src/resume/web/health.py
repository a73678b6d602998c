"""Health for load balancers and uptime monitors."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, head
from sqlalchemy import text

from resume.web.services import services


@get("/healthz")
async def healthz(request: Request[Any, Any, Any]) -> Response[str]:
    """Answer load balancers: the writer is running and the database answers."""
    return await _health(request)


@head("/healthz")
async def healthz_head(request: Request[Any, Any, Any]) -> Response[None]:
    """The same check for uptime monitors that send HEAD."""
    found = await _health(request)
    return Response(None, status_code=found.status_code, headers={"Cache-Control": "no-store"})


async def _health(request: Request[Any, Any, Any]) -> Response[str]:
    svc = services(request)
    if not svc.autosave.running:
        return Response("autosave writer stopped\n", status_code=503, media_type="text/plain")
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    return Response("ok\n", media_type="text/plain", headers={"Cache-Control": "no-store"})
