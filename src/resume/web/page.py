"""What one request knows about where the shopper is: dealer, widget, steps, credential,
and how a step page is rendered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response

from resume.dealers import Dealer
from resume.errors import NotFound, Revoked, TokenExpired, TokenInvalid
from resume.estimates import estimate
from resume.fields import Cleaned
from resume.queries.drafts import DraftState
from resume.tokens import FormCredential, new_draft_id
from resume.tradein import appraise
from resume.web.security import widget_headers
from resume.web.services import Services, services
from resume.widgets import Widget


class Page:
    """Everything one request knows about where the shopper is."""

    def __init__(self, svc: Services, dealer: Dealer, widget: Widget) -> None:
        self.svc = svc
        self.dealer = dealer
        self.widget = widget
        self.steps = widget.steps_for(dealer.config.flags())

    def url(self, target: str, token: str, **extra: str) -> str:
        query = urlencode({"d": token, **extra})
        return f"/embed/{self.dealer.slug}/{self.widget.slug}/{target}?{query}"

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

    def verify(self, token: str) -> tuple[FormCredential, float]:
        hours = self.svc.settings.form_token_hours
        try:
            credential, age = self.svc.signer.verify_form(token, max_age=hours * 3600)
        except TokenExpired:
            raise TokenExpired(
                f"This page was open for more than {hours} hours, so it can't save any more. "
                "Everything saved before is kept: if you saved your answers with your email, "
                "open the link we sent you; otherwise start again from the dealership's website."
            ) from None
        if credential.dealer_id != self.dealer.id or credential.widget != self.widget.slug:
            raise TokenInvalid(
                "This form belongs to another page. Start again from the dealership's website."
            )
        return credential, age

    async def state(self, credential: FormCredential) -> DraftState | None:
        if credential.version == 0:
            # A first page: its draft exists only if the page was already posted once.
            found = (
                await self.svc.autosave.state(credential.draft_id) if credential.draft_id else None
            )
            return found if found and found.dealer_id == self.dealer.id else None
        state = await self.svc.autosave.state(credential.draft_id, credential.revision)
        if state is None:
            raise NotFound("We couldn't find these saved answers. They may have been deleted.")
        if state.version != credential.version:
            raise Revoked("This page was replaced by a newer link. Open the latest email from us.")
        return state

    async def extras(self, index: int, state: DraftState | None) -> dict[str, Any]:
        """What a consent or a credit result page shows besides the step."""
        from resume.web import credit

        kind = self.steps[index].kind
        if kind == "consent":
            return credit.consent_context(self, state)
        if kind == "result" and self.widget.slug == "credit":
            return await credit.result_context(self, state)
        return {}

    def render(
        self, template: str | list[str], *, status: int = 200, **context: Any
    ) -> Response[str]:
        names = tuple(template) if isinstance(template, list) else (template,)
        html = self.svc.template(names).render(
            dealer=self.dealer,
            widget=self.widget,
            steps=self.steps,
            style_url=f"/style/{self.dealer.slug}",
            **context,
        )
        return Response(
            html,
            status_code=status,
            media_type="text/html",
            headers=widget_headers(self.dealer.origins),
        )

    def render_step(
        self,
        index: int,
        state: DraftState | None,
        token: str,
        *,
        check: bool = False,
        posted: dict[str, Cleaned] | None = None,
        notice: str = "",
        status: int = 200,
        **extra: Any,
    ) -> Response[str]:
        """Render step `index`; `extra` goes to the template (a consent notice, a result)."""
        step = self.steps[index]
        stored = state.values if state else {}
        values = {name: s.value for name, s in stored.items()}
        errors, notes = {}, {}
        for field in step.fields:
            saved = stored.get(field.name)
            # A wrong answer is always shown with its message; an empty required one only
            # after the shopper pressed Continue.
            if saved and not saved.valid and (check or saved.value.strip()):
                errors[field.name] = saved.error
            elif saved and saved.valid and saved.error:
                notes[field.name] = saved.error
        if posted:
            values.update({name: c.raw for name, c in posted.items()})
        slug, kind = self.dealer.slug, step.kind
        templates = [
            f"widget/{slug}/{self.widget.slug}-{step.name}.html",
            f"widget/{self.widget.slug}-{step.name}.html",
            f"widget/{slug}/{kind}.html",
            f"widget/{kind}.html",
        ]
        result = None
        if kind == "result" and self.widget.slug == "payment":
            result = estimate(self.widget, self.dealer, stored)
        elif kind == "result" and self.widget.slug == "trade-in":
            extra.setdefault("appraisal", appraise(self.widget, self.dealer, stored))
        return self.render(
            templates,
            status=status,
            step=step,
            index=index,
            reached=state.reached if state else 0,
            values=values,
            errors=errors,
            notes=notes,
            token=token,
            notice=notice,
            estimate=result,
            action=f"/embed/{self.dealer.slug}/{self.widget.slug}/{step.name}",
            draft=state,
            **extra,
        )


async def page_for(request: Request[Any, Any, Any], dealer: str, widget: str) -> Page:
    svc = services(request)
    found = await svc.dealer(dealer)
    request.state.dealer_origins = found.origins
    return Page(svc, found, svc.widget(widget, found))
