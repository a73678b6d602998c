"""Signing in (email and password, then the code), signing out, invitations (a password,
then TOTP enrolment, then the recovery codes), and the account page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume.errors import BadRequest, Forbidden, TooManyRequests
from resume.staff import sessions as staff_sessions
from resume.web.dashboard import staff_session as ss
from resume.web.services import services


@get("/dashboard")
async def home(request: Request[Any, Any, Any]) -> Response[Any]:
    return ss.go("/dashboard/leads")


@get("/dashboard/login")
async def login_page(request: Request[Any, Any, Any]) -> Response[str]:
    """The sign-in page: email and password."""
    csrf, new = ss.pre_session(request)
    return ss.render(
        services(request),
        "dashboard/login.html",
        csrf=csrf,
        cookies=[new] if new else [],
        next=ss.safe_next(request.query_params.get("next", "")),
        error="",
        email="",
    )


@post("/dashboard/login", status_code=303)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the password; on to the code."""
    svc = services(request)
    fields = await ss.form(request)
    email, nxt = fields.get("email", ""), ss.safe_next(fields.get("next", ""))
    try:
        pending = await svc.accounts.sign_in(email, fields.get("password", ""), ss.client(request))
    except (Forbidden, TooManyRequests) as refused:
        csrf, _ = ss.pre_session(request)
        return ss.render(
            svc,
            "dashboard/login.html",
            status=refused.status,
            csrf=csrf,
            next=nxt,
            error=refused.message,
            email=email[:320],
        )
    cookie = ss.cookie(request, ss.PENDING, pending, max_age=300)
    return ss.go(f"/dashboard/login/code?next={nxt}", cookies=[cookie])


@get("/dashboard/login/code")
async def code_page(request: Request[Any, Any, Any]) -> Response[str]:
    csrf, new = ss.pre_session(request)
    if not request.cookies.get(ss.PENDING):
        return ss.go("/dashboard/login")  # type: ignore[return-value]
    return ss.render(
        services(request),
        "dashboard/code.html",
        csrf=csrf,
        cookies=[new] if new else [],
        next=ss.safe_next(request.query_params.get("next", "")),
        error="",
    )


@post("/dashboard/login/code", status_code=303)
async def code(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the code; the session begins with a new id."""
    svc = services(request)
    fields = await ss.form(request)
    nxt = ss.safe_next(fields.get("next", ""))
    try:
        token = await svc.accounts.enter_code(
            request.cookies.get(ss.PENDING, ""), fields.get("code", ""), ss.client(request)
        )
    except (Forbidden, TooManyRequests) as refused:
        csrf, _ = ss.pre_session(request)
        return ss.render(
            svc,
            "dashboard/code.html",
            status=refused.status,
            csrf=csrf,
            next=nxt,
            error=refused.message,
        )
    name = staff_sessions.cookie_name(ss.secure(request))
    cookies = [
        ss.cookie(request, name, token, max_age=int(staff_sessions.ABSOLUTE.total_seconds())),
        ss.gone(request, ss.PENDING),
    ]
    return ss.go(nxt, cookies=cookies)


@post("/dashboard/logout", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    found = await ss.signed(request)
    fields = await ss.form(request, found)
    everywhere = fields.get("everywhere") == "1"
    await services(request).accounts.sign_out(
        found, everywhere=everywhere, ip=ss.client(request).ip
    )
    name = staff_sessions.cookie_name(ss.secure(request))
    return ss.go("/dashboard/login?signed_out=1", cookies=[ss.gone(request, name)])


@get("/dashboard/invite/{token:str}")
async def invite_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """An invitation: choose a password."""
    svc = services(request)
    account = await svc.accounts.invited(token)
    csrf, new = ss.pre_session(request)
    return ss.render(
        svc,
        "dashboard/invite.html",
        csrf=csrf,
        cookies=[new] if new else [],
        account=account,
        token=token,
        error="",
    )


@post("/dashboard/invite/{token:str}", status_code=303)
async def choose_password(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    svc = services(request)
    fields = await ss.form(request)
    problem = await svc.accounts.choose_password(
        token, fields.get("password", ""), fields.get("again", ""), ip=ss.client(request).ip
    )
    if problem:
        csrf, _ = ss.pre_session(request)
        account = await svc.accounts.invited(token)
        return ss.render(
            svc,
            "dashboard/invite.html",
            status=422,
            csrf=csrf,
            account=account,
            token=token,
            error=problem,
        )
    return ss.go(f"/dashboard/invite/{token}/mfa")


@get("/dashboard/invite/{token:str}/mfa")
async def enrol_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Enrol the authenticator app: the QR, and the key as text."""
    svc = services(request)
    enrolment = await svc.accounts.enrolment(token)
    csrf, new = ss.pre_session(request)
    return ss.render(
        svc,
        "dashboard/enrol.html",
        csrf=csrf,
        cookies=[new] if new else [],
        enrolment=enrolment,
        token=token,
        error="",
    )


@post("/dashboard/invite/{token:str}/mfa")
async def enrol(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Confirm the app with a code; show the recovery codes, once."""
    svc = services(request)
    fields = await ss.form(request)
    codes = await svc.accounts.confirm_enrolment(token, fields.get("code", ""), ss.client(request))
    if codes is None:
        csrf, _ = ss.pre_session(request)
        return ss.render(
            svc,
            "dashboard/enrol.html",
            status=422,
            csrf=csrf,
            enrolment=await svc.accounts.enrolment(token),
            token=token,
            error="That code didn't work. Enter the 6-digit code your app shows now.",
        )
    return ss.render(svc, "dashboard/recovery.html", codes=codes)


@get("/dashboard/account")
async def account_page(request: Request[Any, Any, Any]) -> Response[str]:
    """The signed-in person's account: away, sessions, password."""
    svc = services(request)
    found = await ss.signed(request)
    async with svc.db.read() as conn:
        from resume.queries import sessions as sessions_q

        open_sessions = await sessions_q.open_for(conn, found.account.id)
    return ss.render(
        svc,
        "dashboard/account.html",
        found=found,
        sessions=open_sessions,
        current=found.session.id,
        reauthed=svc.accounts.recently_reauthenticated(found),
        message=request.query_params.get("done", ""),
        error="",
    )


@post("/dashboard/account/{action:str}", status_code=303)
async def account_action(request: Request[Any, Any, Any], action: FromPath[str]) -> Response[Any]:
    svc = services(request)
    found = await ss.signed(request)
    fields = await ss.form(request, found)
    who = ss.client(request)
    if action == "away":
        await svc.followthrough.set_away(found.account, fields.get("away") == "1", who.ip)
        return ss.go("/dashboard/account?done=away")
    if action == "reauth":
        ok = await svc.accounts.reauthenticate(
            found, fields.get("password", ""), fields.get("code", ""), who
        )
        return ss.go("/dashboard/account?done=" + ("reauth" if ok else "reauth_failed"))
    if action == "password":
        problem = await svc.accounts.change_password(
            found, fields.get("password", ""), fields.get("again", ""), who
        )
        return ss.go(
            "/dashboard/account?done=" + ("password" if not problem else "password_refused")
        )
    raise BadRequest("The form was sent with a button we don't know.")
