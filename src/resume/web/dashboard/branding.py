"""The branding page's logo file (issue #11, item 4): a plain multipart form with one
`<input type=file>`, and a button that removes it. For admins of the dealership only; any
dealership the account does not cover is a 404. A refused file is the page again with what is
wrong with it (a 400, or a 413 when too big), and nothing stored changes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from resume.dashboard.dealership import Change, stored, value_at
from resume.dashboard.logo import Logos
from resume.dashboard.settings_form import shown
from resume.dashboard.settings_sections import SECTIONS
from resume.errors import BadRequest, Forbidden, PayloadTooLarge
from resume.logos import MAX_UPLOAD_BYTES
from resume.staff import sessions as staff_sessions
from resume.web.dashboard import staff_session as ss
from resume.web.dashboard.dealership import section_page_for
from resume.web.services import services

BRANDING = "branding"


async def _checked_form(request: Request[Any, Any, Any], found: Any) -> Any:
    """The multipart form, once its CSRF token is checked: a failure is a 403, nothing changes."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise BadRequest("This address only accepts the logo form, with its file.")
    form = await request.form()
    given = form.get("csrf")
    if not isinstance(given, str) or not staff_sessions.csrf_matches(found.session.csrf, given):
        raise Forbidden(ss.CSRF_REFUSED, title="This form can't be sent")
    if unknown := sorted(set(form.keys()) - {"csrf", "logo"}):
        raise BadRequest(f"The form was sent with a box we don't know ({unknown[0][:40]}).")
    return form


@post(
    "/dashboard/settings/{slug:str}/logo",
    status_code=303,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
async def logo_upload(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    """Keep the chosen image as the dealership's logo file."""
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    form = await _checked_form(request, found)
    upload = form.get("logo")
    body = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        await Logos(svc.db).upload(found.account, dealer, body, ip=ss.client(request).ip)
    except (BadRequest, PayloadTooLarge) as exc:
        section = SECTIONS[BRANDING]
        data = stored(dealer)
        typed = {e.path: shown(e, value_at(data, e.path)) for e in section.entries}
        return await section_page_for(
            svc, found, dealer, section, typed, Change(saved=False), code=exc.status,
            logo_problem=exc.message,
        )  # fmt: skip
    svc.forget_dealer(dealer.slug)
    return ss.go(f"/dashboard/settings/{quote(dealer.slug)}?done={BRANDING}")


@post("/dashboard/settings/{slug:str}/logo/remove", status_code=303)
async def logo_remove(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    """Stop showing the logo file (the logo address, if one is set, shows again)."""
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    fields = await ss.form(request, found)
    if fields:
        raise BadRequest("The form was sent with a box we don't know.")
    await Logos(svc.db).remove(found.account, dealer, ip=ss.client(request).ip)
    svc.forget_dealer(dealer.slug)
    return ss.go(f"/dashboard/settings/{quote(dealer.slug)}?done={BRANDING}")


ROUTES: tuple[Any, ...] = (logo_upload, logo_remove)
