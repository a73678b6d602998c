"""Health for load balancers and uptime monitors."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from resume.web.services import services


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
