"""Staff management pages for a dealership's admin (issue #13, item 2): parse, call
resume.dashboard.staffing, respond.

An invitation link is a credential for 24 hours, so after a POST it does not ride in the
redirect's query (which lands in access logs and the browser's history): it is handed to the
person's page in a short-lived cookie scoped to that page's path, shown once, and cleared.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath

from resume.dashboard.accounts import Signed
from resume.dashboard.staffing import STATUS_LABELS, Staffing, staff_id
from resume.errors import BadRequest, NotFound
from resume.staff.roles import ROLES
from resume.web.dashboard import staff_session as ss
from resume.web.services import Services, services

LINK_COOKIE = "resume-staff-invite"
LINK_SECONDS = 600
ACTIONS = ("access", "disable", "enable", "reset-mfa", "reinvite", "end-session")
DONE = {
    "invited": "Invited. Send them the invitation link below.",
    "access": "Their role and stores are saved.",
    "unchanged": "Nothing changed: that is the role and stores they had.",
    "disabled": "Disabled: their sessions ended and they can't sign in.",
    "enabled": "Enabled again. They choose a new password and set up their app from the "
    "invitation link below.",
    "mfa": "MFA reset: their sessions ended. They can't sign in until they set up their app "
    "again from the invitation link below.",
    "reinvited": "A fresh invitation: the older link no longer works.",
    "session": "That session ended.",
}


def _staffing(svc: Services) -> Staffing:
    return Staffing(svc.settings, svc.db, svc.signer, svc.accounts)


async def _admin(request: Request[Any, Any, Any]) -> Signed:
    found = await ss.signed(request)
    if not ss.may(found).may_manage:
        raise NotFound()
    return found


@get("/dashboard/staff")
async def staff_page(request: Request[Any, Any, Any]) -> Response[str]:
    found = await _admin(request)
    return await _list(request, found)


async def _list(
    request: Request[Any, Any, Any],
    found: Signed,
    *,
    status: int = 200,
    problem: str = "",
    problem_at: str = "",
    typed: dict[str, str] | None = None,
) -> Response[str]:
    svc = services(request)
    staffing = _staffing(svc)
    stores = await staffing.stores(found.account)
    return ss.render(
        svc,
        "dashboard/staff.html",
        status=status,
        found=found,
        section="staff",
        people=await staffing.roster(found.account),
        stores={s.id: s for s in stores},
        roles=ROLES,
        states=STATUS_LABELS,
        problem=problem,
        problem_at=problem_at,
        typed=typed or {},
    )


@post("/dashboard/staff", status_code=303)
async def invite(request: Request[Any, Any, Any]) -> Response[Any]:
    found = await _admin(request)
    fields = await ss.form(request, found)
    staffing = _staffing(services(request))
    access, problem = staffing.check_access(found.account, fields)
    email, wrong = await staffing.check_email(fields.get("email", ""))
    if wrong or access is None:
        # Shown again with what was typed and the message (style rule 7).
        return await _list(
            request,
            found,
            status=400,
            problem=wrong or problem,
            problem_at="email" if wrong else "store",
            typed=fields,
        )
    person, link = await staffing.invite(found.account, email, access)
    return _with_link(request, person, link, "invited")


@get("/dashboard/staff/{person:str}")
async def person_page(request: Request[Any, Any, Any], person: FromPath[str]) -> Response[str]:
    found = await _admin(request)
    return await _person(request, found, staff_id(person))


async def _person(
    request: Request[Any, Any, Any],
    found: Signed,
    person_id: int,
    *,
    status: int = 200,
    problem: str = "",
    typed: dict[str, str] | None = None,
) -> Response[str]:
    svc = services(request)
    staffing = _staffing(svc)
    profile = await staffing.profile(found.account, person_id)
    token = request.cookies.get(LINK_COOKIE, "")
    link = staffing.link_from_token(person_id, token) if token and len(token) < 400 else ""
    done = request.query_params.get("done", "")
    return ss.render(
        svc,
        "dashboard/staff_member.html",
        status=status,
        found=found,
        cookies=[_link_cookie(request, person_id, "", 0)] if token else [],
        section="staff",
        profile=profile,
        person=profile.person,
        stores={s.id: s for s in await staffing.stores(found.account)},
        roles=ROLES,
        states=STATUS_LABELS,
        link=link,
        done=DONE.get(done, ""),
        current=found.session.id,
        problem=problem,
        typed=typed or {},
    )


@post("/dashboard/staff/{person:str}/{action:str}", status_code=303)
async def person_action(
    request: Request[Any, Any, Any], person: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    found = await _admin(request)
    person_id = staff_id(person)
    if action not in ACTIONS:
        raise BadRequest("The form was sent with a button we don't know.")
    fields = await ss.form(request, found)
    staffing = _staffing(services(request))
    admin, ip = found.account, ss.client(request).ip
    back = f"/dashboard/staff/{person_id}"
    if action == "access":
        access, problem = staffing.check_access(admin, fields)
        if access is None:
            return await _person(
                request, found, person_id, status=400, problem=problem, typed=fields
            )
        changed = await staffing.change_access(admin, person_id, access, ip=ip)
        if person_id == admin.id and not ROLES[access.role].may_manage:
            return ss.go("/dashboard/leads")  # they stepped down: this page is no longer theirs
        return ss.go(f"{back}?done={'access' if changed else 'unchanged'}")
    if action == "disable":
        await staffing.disable(admin, person_id, ip=ip)
        return ss.go(f"{back}?done=disabled")
    if action == "enable":
        link = await staffing.enable(admin, person_id, ip=ip)
        return _with_link(request, person_id, link, "enabled")
    if action == "reset-mfa":
        _, link = await staffing.reset_mfa(admin, person_id, ip=ip)
        return _with_link(request, person_id, link, "mfa")
    if action == "reinvite":
        link = await staffing.reinvite(admin, person_id, ip=ip)
        return _with_link(request, person_id, link, "reinvited")
    await staffing.end_session(
        admin, person_id, fields.get("session", ""), current=found.session.id, ip=ip
    )
    return ss.go(f"{back}?done=session")


def _with_link(
    request: Request[Any, Any, Any], person_id: int, link: str, done: str
) -> Response[Any]:
    """303 to the person's page, the invitation carried there in a cookie for that page."""
    token = link.rpartition("/dashboard/invite/")[2]
    cookie = _link_cookie(request, person_id, token, LINK_SECONDS)
    return ss.go(f"/dashboard/staff/{person_id}?done={done}", cookies=[cookie])


def _link_cookie(
    request: Request[Any, Any, Any], person_id: int, token: str, max_age: int
) -> Cookie:
    return Cookie(
        key=LINK_COOKIE,
        value=token,
        path=f"/dashboard/staff/{person_id}",
        max_age=max_age,
        secure=ss.secure(request),
        httponly=True,
        samesite="strict",
    )


ROUTES: tuple[Any, ...] = (staff_page, invite, person_page, person_action)
