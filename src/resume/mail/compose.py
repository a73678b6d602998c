"""Building an outbox message into an email: the copy for its kind, the facts its widget's
kind gives, and the headers every message carries."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from resume import adf, i18n
from resume.catalog import Catalog
from resume.dealers import Dealer
from resume.definitions import Followup, Widget
from resume.engine import find_step
from resume.errors import NotFound
from resume.kinds.base import Facts
from resume.mail.policy import POLICY, boundary
from resume.queries.drafts import DraftState
from resume.queries.outbox import SHOPPER_KINDS, Message
from resume.settings import Settings
from resume.templating import environment
from resume.tokens import ResumeLink, Signer, UnsubscribeLink
from resume.visible import visible

# Emails are written for the step the shopper left on; each kind has a .txt and an .html.
TEMPLATES = {
    "resume_link": "email/resume_link",
    "followup": "email/followup",
    "offer": "email/offer",
    "alert": "email/alert",
    "came_back": "email/came_back",
    "callback_due": "email/callback_due",
    "callback_missed": "email/callback_missed",
    "adf": "",  # the ADF document itself, see Composer._adf
}


def _generic() -> Followup:
    """Copy for a touch whose step has none of its own in the widget definition."""
    return Followup(
        subject=i18n.gettext("Your {vehicle} answers are saved at {dealer}"),
        body=i18n.gettext(
            'You started on "{step}" and everything you typed is still there. Pick up where '
            "you left off whenever it suits you, or come and finish with us in person."
        ),
    )


class Composer:
    """Renders an outbox message for its dealer and draft into a two-part email."""

    def __init__(self, settings: Settings, signer: Signer, catalog: Catalog) -> None:
        self.settings = settings
        self.signer = signer
        self.catalog = catalog
        self.env = environment(catalog.templates, for_staff=True)

    def unsubscribe_url(self, message: Message, lang: str = i18n.DEFAULT) -> str:
        """The unsubscribe page, in the language of the email it is in."""
        token = self.signer.sign_unsubscribe(UnsubscribeLink(message.dealer_id, message.id))
        url = f"{self.settings.base_url}/u/{token}"
        return url if lang == i18n.DEFAULT else f"{url}?lang={lang}"

    def resume_url(self, dealer: Dealer, draft: DraftState) -> str:
        token = self.signer.sign_resume(ResumeLink(dealer.id, draft.id, draft.version))
        return f"{self.settings.base_url}/r/{token}"

    def lead_url(self, draft: DraftState) -> str:
        """Where staff mail points: the lead's page in the dashboard, never the shopper's
        live form (issue #9)."""
        base = f"{self.settings.base_url}/dashboard/leads"
        return f"{base}/{draft.lead_id}" if draft.lead_id is not None else base

    def build(
        self,
        message: Message,
        dealer: Dealer,
        draft: DraftState | None,
        *,
        resend: bool = False,
        about: dict[str, Any] | None = None,
    ) -> EmailMessage:
        """The email of an outbox message; `about` holds what a staff message is about
        besides its draft (its lead, a callback, an offer)."""
        if message.kind not in TEMPLATES or draft is None:
            raise NotFound(f"cannot build a {message.kind!r} message without its draft")
        # The shopper's mail speaks the draft's language; staff mail and the CRM's, English.
        lang = draft.lang if message.kind in SHOPPER_KINDS else i18n.DEFAULT
        with i18n.speaking(lang):
            return self._build(message, dealer, draft, lang, resend=resend, about=about)

    def _build(
        self,
        message: Message,
        dealer: Dealer,
        draft: DraftState,
        lang: str,
        *,
        resend: bool,
        about: dict[str, Any] | None,
    ) -> EmailMessage:
        widget = self.catalog.for_dealer(draft.widget, dealer, lang)
        kind = self.catalog.kind(draft.widget)
        facts = kind.facts(widget, dealer, draft)
        index, step = find_step(widget.steps, draft.step, fallback=0)
        context: dict[str, Any] = {
            "dealer": dealer,
            "draft": draft,
            "widget": widget,
            "step": step,
            "estimate": facts.estimate,
            "headline": facts.headline,
            "topic": kind.topic,
            "resume_url": self.resume_url(dealer, draft),
            "lead_url": self.lead_url(draft),
            "zone": dealer.timezone,
            # Staff see non-sensitive facts; a widget with sensitive answers keeps its link
            # out of staff mail, where it would open them to anyone holding the email.
            "summary": [*facts.lines, *_language_line(draft)],
            "private": bool(widget.sensitive()),
            "link_days": dealer.config.resume_link_days,
            "unsubscribe_url": self.unsubscribe_url(message, lang),
            **message.context,
        }
        # What the message is about, read at send: it names the same things as the context's
        # ids (a callback, an offer), so it comes last.
        context.update({"lead": None, "callback": None, "offer": None, **(about or {})})
        if message.kind == "followup":
            context.update(self._followup(widget, dealer, facts, index, message.context))
        if message.kind == "alert":
            context["moment_text"] = kind.moment_text(str(message.context.get("moment")))
        if message.kind == "adf":
            return self._adf(message, dealer, draft, widget, facts, resend)
        base = TEMPLATES[message.kind]
        text = self.env.get_template(base + ".txt").render(context)
        html = self.env.get_template(base + ".html").render(context)
        # One line whatever the shopper typed: a header may not carry a line break.
        subject = " ".join(self.env.get_template(base + ".subject.txt").render(context).split())
        email = self._headers(message, dealer)
        email["Subject"] = subject
        if message.kind in SHOPPER_KINDS:
            # RFC 8058 one-click: mail clients POST to the link, with no cookie and no page.
            email["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(text)
        # The boundary is chosen here, where both parts are known, because the generator
        # would compile a regular expression per message to check its own (issue #4 bench).
        email.make_alternative(boundary=boundary(text, html))
        email.add_alternative(html, subtype="html")
        if message.kind in SHOPPER_KINDS:
            # The language it is written in (RFC 3282), as the draft was shown; after the
            # parts, since setting the content drops Content-* headers.
            email["Content-Language"] = lang
        return email

    def _followup(
        self,
        widget: Widget,
        dealer: Dealer,
        facts: Facts,
        shown: int,
        touch: dict[str, Any],
    ) -> dict[str, Any]:
        """The copy written for the step the shopper left on (else the step `shown`) and this
        touch of the cadence."""
        _, step = find_step(widget.steps, touch.get("exit_step"), fallback=shown)
        number = int(touch.get("touch", 1))
        copy = step.followups[number - 1] if number <= len(step.followups) else _generic()
        fill = {"{vehicle}": facts.vehicle, "{dealer}": dealer.name, "{step}": step.title}

        def filled(text: str) -> str:
            for key, value in fill.items():
                text = text.replace(key, value)
            return text

        return {"step": step, "subject": filled(copy.subject), "body": filled(copy.body)}

    def _adf(
        self,
        message: Message,
        dealer: Dealer,
        draft: DraftState,
        widget: Widget,
        facts: Facts,
        resend: bool,
    ) -> EmailMessage:
        """The lead for the dealer's CRM: ADF XML as the body, or attached, as it asks."""
        xml = adf.lead(
            draft=draft,
            dealer=dealer,
            widget=widget,
            parts=facts.adf,
            moment=str(message.context.get("moment", "")),
            resume_url=self.resume_url(dealer, draft),
            resend=resend,
            when=dt.datetime.now(dt.UTC),
        )
        email = self._headers(message, dealer)
        email["Subject"] = visible(" ".join(f"Lead from {dealer.name}: {facts.subject}".split()))
        if dealer.config.adf_as == "body":
            email.set_content(xml.decode(), subtype="plain")
        else:
            email.set_content(
                f"An ADF 1.0 lead for {visible(facts.subject)} is attached (lead.xml)."
            )
            email.add_attachment(
                xml, maintype="application", subtype="x-adf+xml", filename="lead.xml"
            )
        return email

    def _headers(self, message: Message, dealer: Dealer) -> EmailMessage:
        email = EmailMessage(policy=POLICY)
        email["From"] = formataddr((dealer.name, self.settings.mail_from))
        email["To"] = message.to_addr
        email["Reply-To"] = dealer.lead_email
        email["Message-ID"] = message.message_id
        email["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        return email


def _language_line(draft: DraftState) -> list[tuple[str, str]]:
    """For staff: the language a shopper used the widget in, when it is not English, so the
    call is made in it (issue #11, item 6)."""
    if draft.lang == i18n.DEFAULT:
        return []
    return [("Language", i18n.IN_ENGLISH.get(draft.lang, draft.lang))]
