"""A dealership's settings pages, its embed snippets and live preview (issue #13, item 1):
parse, call resume.dashboard.dealership, respond. For admins of the dealership only; anyone
else, and any dealership the account does not cover, gets a 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume import embed
from resume.dashboard.dealership import Change, stored, value_at
from resume.dashboard.logo import Logos
from resume.dashboard.settings_form import Section, shown
from resume.dashboard.settings_sections import SECTIONS
from resume.dealers import Dealer
from resume.engine import find_step
from resume.errors import BadRequest, ConfigError, NotFound
from resume.queries.staff import Account
from resume.web.dashboard import staff_session as ss
from resume.web.forms import parse_form
from resume.web.outcome import Go, Show
from resume.web.security import page_headers
from resume.web.services import Services, services
from resume.web.visit import Visit

PREVIEW_NOTICE = "This is a preview for staff: nothing typed here is saved, and no email is sent."


def _dashboard(svc: Services, template: str, found: Any, **context: Any) -> Response[str]:
    return ss.render(svc, template, found=found, section="settings", **context)


@get("/dashboard/settings")
async def settings_home(request: Request[Any, Any, Any]) -> Response[Any]:
    """The dealerships this admin sets up: one goes straight to its settings."""
    svc = services(request)
    found = await ss.signed(request)
    dealers = await svc.dealership.covered(found.account)
    if len(dealers) == 1:
        return ss.go(f"/dashboard/settings/{dealers[0].slug}")
    return _dashboard(svc, "dashboard/settings_home.html", found, dealers=dealers)


@get("/dashboard/settings/{slug:str}")
async def settings_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
    """One dealership's settings, section by section, each with what is set now."""
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    data = stored(dealer)
    summaries = {
        s.slug: [(e.label, shown(e, value_at(data, e.path))) for e in s.entries]
        for s in SECTIONS.values()
    }
    return _dashboard(
        svc,
        "dashboard/settings.html",
        found,
        dealer=dealer,
        sections=SECTIONS,
        summaries=summaries,
        done=request.query_params.get("done", ""),
        several=len(found.account.dealer_ids) > 1,
    )


@get("/dashboard/settings/{slug:str}/embed")
async def embed_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    query = request.query_params
    done = query.get("done", "") if query.get("done") in {"added", "removed"} else ""
    return await _embed(svc, found, dealer, query.get("widget", ""), done=done)


async def _embed(
    svc: Services, found: Any, dealer: Dealer, chosen: str, *, code: int = 200, **extra: Any
) -> Response[str]:
    widgets = list(svc.catalog.widgets.values())
    if chosen and chosen not in svc.catalog.widgets:
        raise NotFound("This installation has no such widget.")
    base = svc.settings.base_url
    snippets = [
        {
            "widget": w,
            "plain": embed.iframe(embed.url(base, dealer.slug, w.slug), w.title),
            "template": embed.iframe(embed.template_url(base, dealer.slug, w.slug), w.title),
            "vehicle": w.slug in embed.VEHICLE_WIDGETS,
        }
        for w in widgets
    ]
    html = ss.render(
        svc,
        "dashboard/settings_embed.html",
        status=code,
        found=found,
        section="settings",
        dealer=dealer,
        snippets=snippets,
        chosen=chosen,
        preview_src=f"/dashboard/preview/{quote(dealer.slug)}/{quote(chosen)}" if chosen else "",
        height=embed.HEIGHT,
        **{"problem": "", "typed": "", "done": "", **extra},
    )
    # The live preview frames our own widget page: this page may frame 'self', and only that.
    html.headers.update(page_headers(frame_src="'self'"))
    return html


@post("/dashboard/settings/{slug:str}/embed", status_code=303)
async def embed_change(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    """Add or remove an embed origin."""
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    fields = await ss.form(request, found)
    if ("add" in fields) == ("remove" in fields):
        raise BadRequest("The form was sent with a button we don't know.")
    add, remove = fields.get("add", ""), fields.get("remove", "")
    try:
        await svc.dealership.change_origins(
            found.account, dealer, add=add, remove=remove, ip=ss.client(request).ip
        )
    except ConfigError as exc:
        # A refused origin is shown back in its box, with what is wrong with it.
        text = str(exc)
        problem = text[:1].upper() + text[1:] + "."
        return await _embed(svc, found, dealer, "", code=400, problem=problem, typed=add)
    svc.forget_dealer(dealer.slug)
    done = "added" if add else "removed"
    return ss.go(f"/dashboard/settings/{quote(dealer.slug)}/embed?done={done}")


async def _opened(
    request: Request[Any, Any, Any], slug: str, name: str
) -> tuple[Services, Any, Dealer, Section]:
    """The settings page a path names, for the signed-in admin covering its dealership."""
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    section = SECTIONS.get(name)
    if section is None:
        raise NotFound("There is no such settings page.")
    return svc, found, dealer, section


@get("/dashboard/settings/{slug:str}/{name:str}")
async def section_page(
    request: Request[Any, Any, Any], slug: FromPath[str], name: FromPath[str]
) -> Response[str]:
    svc, found, dealer, section = await _opened(request, slug, name)
    data = stored(dealer)
    typed = {e.path: shown(e, value_at(data, e.path)) for e in section.entries}
    return await section_page_for(svc, found, dealer, section, typed, Change(saved=False))


async def section_page_for(
    svc: Services,
    found: Any,
    dealer: Dealer,
    section: Section,
    typed: dict[str, str],
    change: Change,
    *,
    code: int = 200,
    logo_problem: str = "",
) -> Response[str]:
    """A settings section's page, with what was typed and what is wrong with it."""
    # The consent page lists the follow-up box's words; the credit page, the notice's.
    kind = {"consent": "followup", "credit": "credit"}.get(section.slug)
    versions = (
        [v for v in await svc.dealership.consent_versions(found.account, dealer) if v.kind == kind]
        if kind
        else []
    )
    first_error = next((e for e in section.entries if e.path in change.errors), None)
    # The branding page has the logo file's own form too (web.dashboard.branding).
    logo = (
        await Logos(svc.db).current(found.account, dealer) if section.slug == "branding" else None
    )
    return ss.render(
        svc,
        "dashboard/settings_section.html",
        status=code,
        found=found,
        section="settings",
        dealer=dealer,
        part=section,
        typed=typed,
        errors=change.errors,
        first_error=first_error,
        warnings=change.warnings,
        sample=change.sample,
        versions=versions,
        logo=logo,
        logo_problem=logo_problem,
    )


@post("/dashboard/settings/{slug:str}/{name:str}", status_code=303)
async def section_change(
    request: Request[Any, Any, Any], slug: FromPath[str], name: FromPath[str]
) -> Response[Any]:
    svc, found, dealer, section = await _opened(request, slug, name)
    fields = await ss.form(request, found)
    action = fields.pop("action", "save")
    change = await svc.dealership.change(
        found.account, dealer, section, fields, action=action, ip=ss.client(request).ip
    )
    if change.saved:
        # This process's widgets show the change at once; others within DEALER_TTL.
        svc.forget_dealer(dealer.slug)
        return ss.go(f"/dashboard/settings/{quote(dealer.slug)}?{urlencode({'done': name})}")
    code = 400 if change.errors else 200
    return await section_page_for(svc, found, dealer, section, fields, change, code=code)


async def _preview_visit(
    request: Request[Any, Any, Any], slug: str, widget: str
) -> tuple[Visit, Account]:
    svc = services(request)
    found = await ss.signed(request)
    dealer = await svc.dealership.get(found.account, slug)
    base = f"/dashboard/preview/{quote(dealer.slug)}/{quote(widget)}"
    return Visit(svc, dealer, svc.widget(widget, dealer), preview=base), found.account


@get("/dashboard/preview/{slug:str}/{widget:str}")
async def preview(
    request: Request[Any, Any, Any], slug: FromPath[str], widget: FromPath[str]
) -> Response[Any]:
    """A step of the widget as the dealer's site frames it, framed by the settings page
    only; its forms post to the preview, which stores nothing."""
    visit, _ = await _preview_visit(request, slug, widget)
    index, _ = find_step(visit.steps, request.query_params.get("step", ""), fallback=0)
    # Not step_flow.first: that records a view, and a preview is nobody's visit.
    token = visit.credential(None)
    return await visit.respond(Show(index=index, state=None, token=token, notice=PREVIEW_NOTICE))


@post("/dashboard/preview/{slug:str}/{widget:str}/{step:str}", status_code=303)
async def preview_post(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[Any]:
    """Move through the preview as the buttons would; nothing typed is kept."""
    visit, _ = await _preview_visit(request, slug, widget)
    fields = parse_form(await request.body(), request.headers.get("content-type", ""))
    index, _ = find_step(visit.steps, step, fallback=0)
    action = fields.get("action", "continue")
    if action.startswith("goto:"):
        index, _ = find_step(visit.steps, action[5:], fallback=index)
    elif action == "back":
        index = max(0, index - 1)
    else:
        index = min(len(visit.steps) - 1, index + 1)
    return await visit.respond(
        Go(f"{visit.preview}?{urlencode({'step': visit.steps[index].name})}")
    )


ROUTES: tuple[Any, ...] = (
    settings_home,
    settings_page,
    embed_page,
    embed_change,
    section_page,
    section_change,
    preview,
    preview_post,
)
