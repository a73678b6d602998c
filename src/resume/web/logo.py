"""A dealer's logo file, served from our own origin (issue #11, item 4)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from resume.errors import NotFound
from resume.logos import DIGEST_CHARS
from resume.queries import logos as logos_q
from resume.web.services import services

# The address holds the file's digest, so a new file is a new address: a year, unchanged.
LOGO_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    # Only our own pages show it; no other site may embed what we keep.
    "Cross-Origin-Resource-Policy": "same-origin",
}


@get("/logo/{dealer:str}/{digest:str}")
async def logo(
    request: Request[Any, Any, Any], dealer: FromPath[str], digest: FromPath[str]
) -> Response[bytes]:
    """The dealer's logo file, while `digest` is its own; otherwise a 404."""
    svc = services(request)
    found = await svc.dealer(dealer)
    if len(digest) != DIGEST_CHARS:
        raise NotFound("There is no such logo.")
    async with svc.db.read() as conn:
        kept = await logos_q.get(conn, found.id)
    if kept is None or kept.sha256[:DIGEST_CHARS] != digest:
        raise NotFound("There is no such logo.")
    headers = {**LOGO_HEADERS, "ETag": f'"{kept.sha256[:DIGEST_CHARS]}"'}
    return Response(kept.body, media_type=kept.content_type, headers=headers)
