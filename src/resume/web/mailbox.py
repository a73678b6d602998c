"""The mail the embedded default keeps on disk, shown to this machine only (it holds links)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from resume.dashboard import mailroom
from resume.errors import NotFound
from resume.web.security import page_headers
from resume.web.services import client_ip, services


def _mail_folder(request: Request[Any, Any, Any]) -> Path:
    """The mail folder, shown only without SMTP and only to this machine (it holds links)."""
    svc = services(request)
    host = client_ip(request)
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host in {"localhost", "testclient"}
    # A proxy on this machine makes every visitor look local; it rarely keeps the Host too.
    named_local = (request.url.hostname or "") in {"127.0.0.1", "localhost", "::1", "[::1]"}
    if svc.settings.smtp_url or not local or not named_local:
        raise NotFound()
    return Path(svc.settings.mail_dir)


@get("/mail")
async def mail_list(request: Request[Any, Any, Any]) -> Response[str]:
    """List the mail kept on disk, newest first."""
    folder = _mail_folder(request)
    messages = []
    for name in mailroom.names(folder)[:200]:
        headers = mailroom.read_headers(folder, name)
        if headers is not None:
            messages.append(
                {
                    "name": name,
                    "to": headers["To"],
                    "subject": headers["Subject"],
                    "date": headers["Date"],
                }
            )
    html = (
        services(request)
        .env.get_template("mailbox/list.html")
        .render(messages=messages, folder=str(folder.resolve()), style_url="/style/-")
    )
    return Response(html, media_type="text/html", headers=page_headers())


@get("/mail/{name:str}")
async def mail_show(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    message = mailroom.read(_mail_folder(request), name)
    html = (
        services(request)
        .env.get_template("mailbox/show.html")
        .render(
            name=name,
            message=message,
            text=mailroom.part(message, "plain"),
            style_url="/style/-",
        )
    )
    return Response(html, media_type="text/html", headers=page_headers(frame_src="'self'"))


@get("/mail/{name:str}/html")
async def mail_html(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """The HTML part on its own, sandboxed: it is shown in a frame of the mail page."""
    message = mailroom.read(_mail_folder(request), name)
    headers = {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:; sandbox; frame-ancestors 'self'",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(mailroom.part(message, "html"), media_type="text/html", headers=headers)
