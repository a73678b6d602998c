"""Pages around the widgets: stylesheets, the demo dealer page, the local mail viewer, health."""

from __future__ import annotations

import email
import email.policy
import ipaddress
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, head
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import text

from resume.demo import SLUG as DEMO_SLUG
from resume.demo import demo_origin
from resume.errors import NotFound
from resume.web.security import page_headers
from resume.web.services import client_ip, services

CSS_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}


@get("/style/{name:str}")
async def stylesheet(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """Serve the widget stylesheet, in the dealer's colours when `name` is a dealer."""
    svc = services(request)
    theme = None
    if name != "-":
        try:
            theme = (await svc.dealer(name)).config.theme
        except NotFound:
            theme = None
    css = svc.env.get_template("widget/widget.css").render(theme=theme)
    return Response(css, media_type="text/css", headers=CSS_HEADERS)


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


@get("/demo")
async def demo_page(request: Request[Any, Any, Any]) -> Response[str]:
    """A page that looks like a dealer's vehicle page and embeds the widget from elsewhere."""
    svc = services(request)
    origin = demo_origin(svc.settings.base_url)
    here = f"{request.url.scheme}://{request.url.netloc}"
    if here != origin and origin != svc.settings.base_url:
        return Redirect(origin + "/demo", status_code=302)
    widget = request.query_params.get("widget", "payment")
    if widget not in svc.widgets:
        raise NotFound("The demo page shows payment, trade-in or credit.")
    html = svc.env.get_template("demo/vehicle.html").render(
        widget_url=f"{svc.settings.base_url}/embed/{DEMO_SLUG}/{widget}",
        widget_title=svc.widgets[widget].title,
        widget=widget,
        widgets=svc.widgets,
        style_url="/style/-",
    )
    return Response(
        html, media_type="text/html", headers=page_headers(frame_src=svc.settings.base_url)
    )


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


def _read(folder: Path, name: str) -> EmailMessage:
    path = folder / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        raise NotFound("No such message.")
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


@get("/mail")
async def mail_list(request: Request[Any, Any, Any]) -> Response[str]:
    """List the mail kept on disk, newest first."""
    folder = _mail_folder(request)
    names = sorted((p.name for p in folder.glob("*.eml")), reverse=True) if folder.is_dir() else []
    messages = []
    for name in names[:200]:
        message = _read(folder, name)
        messages.append(
            {
                "name": name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
            }
        )
    html = (
        services(request)
        .env.get_template("mail/list.html")
        .render(messages=messages, folder=str(folder.resolve()), style_url="/style/-")
    )
    return Response(html, media_type="text/html", headers=page_headers())


@get("/mail/{name:str}")
async def mail_show(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    message = _read(_mail_folder(request), name)
    text_part = message.get_body(preferencelist=("plain",))
    html = (
        services(request)
        .env.get_template("mail/show.html")
        .render(
            name=name,
            message=message,
            text=text_part.get_content() if text_part else "",
            style_url="/style/-",
        )
    )
    return Response(html, media_type="text/html", headers=page_headers(frame_src="'self'"))


@get("/mail/{name:str}/html")
async def mail_html(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """The HTML part on its own, sandboxed: it is shown in a frame of the mail page."""
    message = _read(_mail_folder(request), name)
    part = message.get_body(preferencelist=("html",))
    headers = {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:; sandbox; frame-ancestors 'self'",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(part.get_content() if part else "", media_type="text/html", headers=headers)
