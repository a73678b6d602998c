"""What one request knows about where the shopper is (dealer, widget, steps, credential), and
the one way a step page is rendered or a shopper sent on.

Controllers get a `Visit`, hand it to the service that does the work, and turn the `Outcome`
that comes back into a response with `Visit.respond`: every page of a widget carries the same
headers, and every redirect a fresh credential, from here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect

from resume import i18n, logs, page_vehicle, source
from resume.dealers import Dealer, logo_origin
from resume.definitions import Step, Widget
from resume.engine import find_step
from resume.errors import DraftGone, Revoked, TokenExpired, TokenInvalid
from resume.fields import Cleaned
from resume.i18n import gettext
from resume.kinds.base import Scene
from resume.queries.drafts import FIRST_VERSION, DraftState
from resume.tokens import FormCredential, new_draft_id
from resume.web.outcome import Go, Outcome, Page, Show
from resume.web.page_context import step_context, step_templates, widget_context
from resume.web.security import HEAD, widget_headers
from resume.web.services import Services, services


class Visit:
    """Everything one request knows about where the shopper is."""

    def __init__(
        self,
        svc: Services,
        dealer: Dealer,
        widget: Widget,
        *,
        head: bool = False,
        preview: str = "",
        lang: str = i18n.DEFAULT,
        browser: str = "",
    ) -> None:
        self.svc = svc
        # A staff preview (issue #13): framed by our own dashboard only, and its forms post
        # to `preview` + the step's name, which stores nothing.
        self.preview = preview
        # Where the shopper came from (resume.source): read on the first page, carried in
        # its form to the first save, which stores it with the new draft (issue #10).
        self.source: dict[str, str] = {}
        # The vehicle on the dealer's page (resume.page_vehicle): the first step's answers it
        # fills, checked as typed, shown until the first save stores them; and the vehicle as
        # the page gave it, kept with the draft for staff (issue #11).
        self.prefill: dict[str, Cleaned] = {}
        self.page_vehicle: dict[str, str] = {}
        # A HEAD served as its GET: it shows the page and records nothing (issue #12).
        self.head = head
        self.dealer = dealer
        self.kind = svc.catalog.kind(widget.slug)
        # The languages this widget is offered in here, and the one of this visit (`widget`
        # is in it): the page's words, the draft's, its resume link's and its follow-ups'.
        self.languages = svc.catalog.languages(widget.slug, dealer.config.languages)
        self.lang = lang
        # The language the browser's own Accept-Language would be served: the one a page
        # need not name in its addresses.
        self.browser_lang = i18n.choose(None, browser, self.languages)
        self.browser = browser
        # Whether the shopper named the language (on the address, or by the switch): only
        # then does a save change the draft's; otherwise it keeps the one it has.
        self.lang_asked = False
        self._use(widget)

    def speak(self, lang: str) -> None:
        """Serve the rest of this visit in `lang` (a shopper's switch, a draft's language)."""
        if lang not in self.languages:
            return
        self.lang_asked = True
        if lang != self.lang:
            self.lang = lang
            i18n.set_language(lang)
            self._use(self.svc.widget(self.widget.slug, self.dealer, lang))

    def _use(self, widget: Widget) -> None:
        dealer, svc = self.dealer, self.svc
        self.widget = widget
        self.steps = widget.steps_for(dealer.config.flags())
        # Their names in order, as the funnel counts the steps a draft reaches.
        self.step_names = tuple(s.name for s in self.steps)
        self.scene = Scene(
            dealer=dealer,
            widget=widget,
            steps=self.steps,
            settings=svc.settings,
            db=svc.db,
            ring=svc.ring,
            signer=svc.signer,
        )

    def lang_param(self) -> dict[str, str]:
        """The visit's language, for the addresses of its pages and forms, where it is not
        the one the browser asks for (the page's `?lang=`, a switch, a draft's language): it
        travels with the shopper, as the credential does."""
        return {"lang": self.lang} if self.lang != self.browser_lang else {}

    def form_action(self, target: str) -> str:
        """Where a page's form posts: the step or page `target`, in this visit's language."""
        action = f"/embed/{self.dealer.slug}/{self.widget.slug}/{target}"
        named = self.lang_param()
        return f"{action}?{urlencode(named)}" if named else action

    def step_now(self, state: DraftState) -> int:
        """The index of the step the draft is on, or of the furthest it reached if earlier."""
        index, _ = find_step(self.steps, state.step, fallback=0)
        return min(index, state.reached)

    def url(self, target: str, token: str, **extra: str) -> str:
        query = urlencode({"d": token, **self.lang_param(), **extra})
        return f"/embed/{self.dealer.slug}/{self.widget.slug}/{target}?{query}"

    def go(self, target: str, state: DraftState | None, **extra: str) -> Go:
        """Send the shopper to step or page `target` with a fresh credential for `state`."""
        return Go(self.url(target, self.credential(state), **extra))

    def credential(self, state: DraftState | None, *, resumed: bool = False) -> str:
        if state is None:
            # The draft's id is fixed now, before it exists (version 0): a first page posted
            # twice saves into one draft instead of two.
            return self.svc.signer.sign_form(
                FormCredential(self.dealer.id, self.widget.slug, new_draft_id())
            )
        return self.svc.signer.sign_form(
            FormCredential(
                self.dealer.id, self.widget.slug, state.id, state.version, state.revision, resumed
            )
        )

    def resign(self, credential: FormCredential) -> str:
        """The same credential, signed again: a page shown back unsaved keeps its draft."""
        return self.svc.signer.sign_form(credential)

    def verify(self, token: str) -> tuple[FormCredential, float]:
        hours = self.svc.settings.form_token_hours
        try:
            credential, age = self.svc.signer.verify_form(token, max_age=hours * 3600)
        except TokenExpired:
            raise TokenExpired(
                gettext(
                    "This page was open for more than {hours} hours, so it can't save any "
                    "more. Everything saved before is kept: if you saved your answers with your "
                    "email, open the link we sent you; otherwise start again from the "
                    "dealership's website."
                ).format(hours=hours)
            ) from None
        if credential.dealer_id != self.dealer.id or credential.widget != self.widget.slug:
            raise TokenInvalid(
                gettext(
                    "This form belongs to another page. Start again from the dealership's website."
                )
            )
        return credential, age

    async def state(self, credential: FormCredential) -> DraftState | None:
        if credential.version == 0:
            # A first page: its draft exists only if the page was already posted once.
            found = (
                await self.svc.autosave.state(credential.draft_id) if credential.draft_id else None
            )
            if found is None or found.dealer_id != self.dealer.id:
                return None
            if found.version != FIRST_VERSION:
                raise Revoked()  # revoked since: the first page is void too (issue #12)
            return found
        state = await self.svc.autosave.state(credential.draft_id, credential.revision)
        if state is None:
            raise DraftGone()
        if state.version != credential.version:
            raise Revoked()
        return state

    def render(
        self, template: str | tuple[str, ...], *, status: int = 200, **context: Any
    ) -> Response[str]:
        names = template if isinstance(template, tuple) else (template,)
        # A staff preview stores nothing, so it has no language switch to press.
        languages = () if self.preview else self.languages
        html = self.svc.template(names).render(
            **widget_context(self.dealer, self.widget, self.steps, languages), **context
        )
        return Response(html, status_code=status, media_type="text/html", headers=self.headers())

    def _prefilled(self, step: Step, show: Show, context: dict[str, Any]) -> None:
        """The first page with the page's vehicle in its boxes: each value with its message
        if it is wrong; a summary card instead of the boxes if every required one is right."""
        context["page_vehicle"] = page_vehicle.carried(self.page_vehicle)
        if show.posted is not None:
            return  # a post shown back: what was just typed, not the page's values
        context["values"] = {**context["values"], **{n: c.raw for n, c in self.prefill.items()}}
        wrong = {n: c.error for n, c in self.prefill.items() if c.error}
        context["errors"] = {**context["errors"], **wrong}
        required = {f.name for f in step.fields if f.required}
        # A card only where the page fills every answer the step needs (the payment's car);
        # elsewhere (the trade-in's own car, all optional) the boxes show, filled in.
        if self.prefill and not wrong and required and required <= set(self.prefill):
            price = self.prefill.get("price")
            context["vehicle_card"] = {
                "headline": " ".join(
                    self.prefill[n].raw.strip()
                    for n in ("year", "make", "model", "trim")
                    if n in self.prefill
                ),
                "price": price.value if price is not None else None,
                "image": self.page_vehicle.get("image", ""),
            }

    def headers(self) -> dict[str, str]:
        # The logo and the page's photo of the car are on the dealer's own origins
        # (Dealer.logo, resume.page_vehicle): those origins may serve the page an image, no
        # other (issue #11, items 1 and 4). A logo file we keep is on ours ('self').
        images = (self.dealer.logo(), self.page_vehicle.get("image", ""))
        return widget_headers(
            ("'self'",) if self.preview else self.dealer.origins,
            image_origins=tuple(filter(None, (logo_origin(url) for url in images))),
        )

    async def render_step(self, show: Show) -> Response[str]:
        """Render a step with what is stored and what its kind shows beside it (a result's
        figures, a consent's notice): the one way every step page is made."""
        step = self.steps[show.index]
        extra = await self.kind.page_context(self.scene, step, show.state)
        context = step_context(
            self.dealer, self.widget, step, show.index, show.state, show.token,
            check=show.check, posted=show.posted, notice=show.notice,
        )  # fmt: skip
        context["action"] = (
            f"{self.preview}/{step.name}" if self.preview else self.form_action(step.name)
        )
        context["source"] = (
            source.carried(self.source) if self.source and show.state is None else ""
        )
        context["page_vehicle"] = ""
        context["vehicle_card"] = None
        if show.index == 0 and show.state is None and (self.prefill or self.page_vehicle):
            self._prefilled(step, show, context)
        names = step_templates(self.dealer, self.widget, step)
        return self.render(names, status=show.status, **context, **extra)

    async def respond(self, outcome: Outcome) -> Response[Any]:
        """Turn what a service decided into the response, with the widget's headers."""
        if isinstance(outcome, Go):
            return Redirect(outcome.url, status_code=303, headers=self.headers())
        if isinstance(outcome, Show):
            return await self.render_step(outcome)
        if isinstance(outcome, Page):
            return self.render(outcome.template, status=outcome.status, **outcome.context)
        return Response(
            outcome.body,
            media_type="text/plain; charset=utf-8",
            headers={
                **self.headers(),
                "Content-Disposition": f'attachment; filename="{outcome.filename}"',
            },
        )


async def visit_for(request: Request[Any, Any, Any], dealer: str, widget: str) -> Visit:
    """Return the visit a widget route's path names; an unknown dealer or widget is a 404."""
    return await open_visit(
        services(request),
        request.scope,
        dealer,
        widget,
        browser=request.headers.get("accept-language", ""),
        asked=request.query_params.get("lang"),
    )


async def open_visit(
    svc: Services,
    scope: Any,
    dealer: str,
    widget: str,
    *,
    browser: str,
    asked: str | None,
) -> Visit:
    """The visit of request `scope`, from what it says: `browser` its Accept-Language,
    `asked` its `lang` parameter (resume.web.lean_steps calls this without a Request)."""
    found = await svc.dealer(dealer)
    # An error page of this request stays frameable by this dealer (resume.web.errors).
    scope.setdefault("state", {})["dealer_origins"] = found.origins
    logs.bind_dealer(found.slug)
    # The page's language: asked for by name (`lang` on the iframe's or the form's address),
    # else the browser's, among those the dealer offers (issue #11, item 6).
    lang = i18n.choose(asked, browser, svc.catalog.languages(widget, found.config.languages))
    i18n.set_language(lang)
    visit = Visit(
        svc,
        found,
        svc.widget(widget, found, lang),
        head=bool(scope.get(HEAD)),
        lang=lang,
        browser=browser,
    )
    visit.lang_asked = asked == lang
    return visit
