"""The staff side of a request: the session cookie, the CSRF check, and the page a signed-in
person gets, all in one place so that no dashboard route can forget one of them."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from resume.consent import Client
from resume.dashboard.accounts import Signed
from resume.errors import Forbidden, ResumeError, TokenExpired, TokenInvalid
from resume.staff import sessions as staff_sessions
from resume.staff.roles import Role, role
from resume.web.forms import parse_form
from resume.web.security import page_headers
from resume.web.services import Services, client_ip, services

# Set on the sign-in pages before there is a session: their forms carry it signed, so a
# form posted from elsewhere (login CSRF) fails (the double-submit pattern, signed).
PRE = "resume-staff-pre"
PENDING = "resume-staff-pending"
PRE_SECONDS = 3600
CSRF_REFUSED = (
    "This form had expired or did not come from this site, so nothing was changed. Go back, "
    "reload the page and try again."
)


class SignInNeeded(ResumeError):
    """No signed-in session: the route answers with the sign-in page (303)."""

    status = 303


def secure(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser reached us over https (where a __Host- cookie can work)."""
    return services(request).settings.base_url.startswith("https://")


def client(request: Request[Any, Any, Any]) -> Client:
    return Client(client_ip(request), request.headers.get("user-agent", ""))


def cookie(request: Request[Any, Any, Any], key: str, value: str, *, max_age: int | None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        secure=secure(request),
        httponly=True,
        samesite="lax",
    )


def gone(request: Request[Any, Any, Any], key: str) -> Cookie:
    return cookie(request, key, "", max_age=0)


async def signed(request: Request[Any, Any, Any]) -> Signed:
    """The signed-in session of the request, or SignInNeeded."""
    svc = services(request)
    token = request.cookies.get(staff_sessions.cookie_name(secure(request)), "")
    found = await svc.accounts.signed_in(token)
    if found is None:
        raise SignInNeeded()
    return found


def may(found: Signed) -> Role:
    return role(found.account.role)


async def form(request: Request[Any, Any, Any], found: Signed | None = None) -> dict[str, str]:
    """The posted form, once its CSRF token is checked: the session's, or on the sign-in
    pages the signed value of the pre-session cookie. A failure is a 403 and changes nothing."""
    fields = parse_form(await request.body(), request.headers.get("content-type", ""))
    given = fields.pop("csrf", "")
    if found is not None:
        if not staff_sessions.csrf_matches(found.session.csrf, given):
            raise Forbidden(CSRF_REFUSED, title="This form can't be sent")
        return fields
    svc = services(request)
    try:
        value = svc.signer.verify_staff_form(given, max_age=PRE_SECONDS)
    except (TokenInvalid, TokenExpired):
        raise Forbidden(CSRF_REFUSED, title="This form can't be sent") from None
    if not staff_sessions.csrf_matches(request.cookies.get(PRE, ""), value):
        raise Forbidden(CSRF_REFUSED, title="This form can't be sent")
    return fields


def pre_session(request: Request[Any, Any, Any]) -> tuple[str, Cookie | None]:
    """The sign-in pages' CSRF token, and the cookie to set if the browser has none yet."""
    svc = services(request)
    value = request.cookies.get(PRE, "")
    new = None
    if len(value) < 20 or len(value) > 64:
        value = secrets.token_urlsafe(24)
        new = cookie(request, PRE, value, max_age=PRE_SECONDS)
    return svc.signer.sign_staff_form(value), new


def render(
    svc: Services,
    template: str,
    *,
    status: int = 200,
    found: Signed | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    """A dashboard page: never framed, never cached, with the signed-in person if any."""
    html = svc.staff_env.get_template(template).render(
        style_url="/dashboard/style.css",
        me=found.account if found else None,
        role=role(found.account.role) if found else None,
        csrf=found.session.csrf if found else context.pop("csrf", ""),
        # Without SMTP, sent mail is kept on disk and the dashboard shows it (issue #13).
        mail_on_disk=not svc.settings.smtp_url,
        **context,
    )
    return Response(
        html,
        status_code=status,
        media_type="text/html",
        headers=page_headers(),
        cookies=[c for c in cookies or [] if c is not None],
    )


def go(url: str, *, cookies: list[Cookie] | None = None) -> Response[Any]:
    """303 to a dashboard page (Post/Redirect/Get)."""
    return Redirect(url, status_code=303, headers=page_headers(), cookies=cookies or [])


def to_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    path = request.url.path
    query = (
        f"?next={quote(path)}" if path.startswith("/dashboard/") and request.method == "GET" else ""
    )
    return go(f"/dashboard/login{query}")


def safe_next(value: str) -> str:
    """Where to go after signing in: a dashboard path of ours, never another site."""
    if value.startswith("/dashboard/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard/leads"
