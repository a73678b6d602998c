"""Build outbox messages into emails, and deliver them by SMTP or into a folder on disk."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import sys
import uuid
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from resume import adf, leads
from resume.dealers import Dealer, for_dealer
from resume.errors import NotFound
from resume.estimates import estimate, vehicle_label
from resume.queries.drafts import DraftState
from resume.queries.outbox import SHOPPER_KINDS, Message
from resume.settings import Settings
from resume.templating import environment
from resume.tokens import ResumeLink, Signer, UnsubscribeLink
from resume.widgets import Followup, Widget

SMTP_TIMEOUT = 20  # seconds per SMTP command; the worker also bounds each whole message

# Emails are written for the step the shopper left on; each kind has a .txt and an .html.
KINDS = {
    "resume_link": "email/resume_link",
    "followup": "email/followup",
    "alert": "email/alert",
    "adf": "",  # the ADF document itself, see Composer._adf
}

# Copy for a touch whose step has none of its own in the widget definition.
GENERIC = Followup(
    subject="Your {vehicle} answers are saved at {dealer}",
    body='You started on "{step}" and everything you typed is still there. Pick up where '
    "you left off whenever it suits you, or come and finish with us in person.",
)


def new_message_id(settings: Settings) -> str:
    """Return a Message-ID, fixed when the message is queued (rule 9)."""
    domain = urlsplit(settings.base_url).hostname or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def resume_link_message(settings: Settings, to_addr: str, dedupe_key: str) -> dict[str, Any]:
    """Return the outbox row (without its draft) of an email with a fresh resume link."""
    return {
        "kind": "resume_link",
        "context": {},
        "to_addr": to_addr,
        "message_id": new_message_id(settings),
        "dedupe_key": dedupe_key,
    }


MOMENTS = {
    "showroom": "wants to finish at the dealership",
    "resumed_completed": "came back from a resume link and finished the estimate",
    "trade_in": "asked for a trade-in appraisal",
    "prequalified": "completed a soft-credit pre-qualification",
    "prequal_failed": "agreed to a soft-credit pre-qualification we could not complete; "
    "they were told someone would contact them",
    "this_week": "plans to trade this week",
}


def alert_messages(
    settings: Settings, dealer: Dealer, draft_id: str, moment: str, *, has_contact: bool
) -> list[dict[str, Any]]:
    """Return the outbox rows of a high-intent moment: an alert to the lead inbox, and an ADF
    lead to the CRM when the dealer has one. Keyed so each moment is sent once per draft."""
    rows = [
        {
            "kind": "alert",
            "context": {"moment": moment},
            "to_addr": dealer.lead_email,
            "message_id": new_message_id(settings),
            "dedupe_key": f"alert:{draft_id}:{moment}",
        }
    ]
    # ADF needs an email or a phone for the customer; without one the alert still goes.
    if dealer.config.crm_email and has_contact:
        rows.append(
            {
                "kind": "adf",
                "context": {"moment": moment},
                "to_addr": dealer.config.crm_email,
                "message_id": new_message_id(settings),
                "dedupe_key": f"adf:{draft_id}:{moment}",
            }
        )
    return rows


def _vehicle(widget: Widget, draft: DraftState) -> str:
    """What a follow-up calls the shopper's car when there is no payment estimate."""
    if widget.slug == "trade-in":
        label = vehicle_label(draft.values)
        return label if label != "your vehicle" else "car"
    return "next car"


class Composer:
    """Renders an outbox message for its dealer and draft into a two-part email."""

    def __init__(self, settings: Settings, signer: Signer, widgets: dict[str, Widget]) -> None:
        self.settings = settings
        self.signer = signer
        self.widgets = widgets
        self.env = environment()

    def unsubscribe_url(self, message: Message) -> str:
        token = self.signer.sign_unsubscribe(UnsubscribeLink(message.dealer_id, message.id))
        return f"{self.settings.base_url}/u/{token}"

    def _followup(
        self,
        widget: Widget,
        dealer: Dealer,
        draft: DraftState,
        context: dict[str, Any],
        touch: dict[str, Any],
    ) -> dict[str, Any]:
        """The copy written for the step the shopper left on and this touch of the cadence."""
        step = next((s for s in widget.steps if s.name == touch.get("exit_step")), context["step"])
        number = int(touch.get("touch", 1))
        copy = step.followups[number - 1] if number <= len(step.followups) else GENERIC
        vehicle = context["estimate"].vehicle if context["estimate"] else _vehicle(widget, draft)
        fill = {"{vehicle}": vehicle, "{dealer}": dealer.name, "{step}": step.title}

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
        context: dict[str, Any],
        resend: bool,
    ) -> EmailMessage:
        """The lead for the dealer's CRM: ADF XML as the body, or attached, as it asks."""
        xml = adf.lead(
            draft=draft,
            dealer=dealer,
            widget=context["widget"],
            estimate=context["estimate"],
            moment=str(message.context.get("moment", "")),
            resume_url=context["resume_url"],
            resend=resend,
            when=dt.datetime.now(dt.UTC),
        )
        email = self._headers(message, dealer)
        vehicle = leads.subject_of(context["widget"], draft, context["estimate"])
        email["Subject"] = " ".join(f"Lead from {dealer.name}: {vehicle}".split())
        if dealer.config.adf_as == "body":
            email.set_content(xml.decode(), subtype="plain")
        else:
            email.set_content(f"An ADF 1.0 lead for {vehicle} is attached (lead.xml).")
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

    def resume_url(self, dealer: Dealer, draft: DraftState) -> str:
        token = self.signer.sign_resume(ResumeLink(dealer.id, draft.id, draft.version))
        return f"{self.settings.base_url}/r/{token}"

    def build(
        self, message: Message, dealer: Dealer, draft: DraftState | None, *, resend: bool = False
    ) -> EmailMessage:
        if message.kind not in KINDS or draft is None:
            raise NotFound(f"cannot build a {message.kind!r} message without its draft")
        widget = for_dealer(self.widgets[draft.widget], dealer)
        context: dict[str, Any] = {
            "dealer": dealer,
            "draft": draft,
            "widget": widget,
            "step": next((s for s in widget.steps if s.name == draft.step), widget.steps[0]),
            "estimate": estimate(widget, dealer, draft.values)
            if draft.widget == "payment"
            else None,
            "resume_url": self.resume_url(dealer, draft),
            # Staff see non-sensitive facts; a widget with sensitive answers keeps its link
            # out of staff mail, where it would open them to anyone holding the email.
            "summary": leads.summary(widget, dealer, draft),
            "private": leads.has_sensitive(widget),
            "link_days": dealer.config.resume_link_days,
            "unsubscribe_url": self.unsubscribe_url(message),
            **message.context,
        }
        if message.kind == "followup":
            context.update(self._followup(widget, dealer, draft, context, message.context))
        if message.kind == "alert":
            context["moment_text"] = MOMENTS.get(str(message.context.get("moment")), "")
        if message.kind == "adf":
            return self._adf(message, dealer, draft, context, resend)
        base = KINDS[message.kind]
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
        email.make_alternative(boundary=_boundary(text, html))
        email.add_alternative(html, subtype="html")
        return email


# The stdlib's email package with its default policy is most of the cost of a message (issue #4
# bench: about 70 % of building and sending one, against 3 % for the templates). Two costs in
# it repeat for nothing, and the header factory below removes them; the bytes on the wire are
# the same:
# - HeaderRegistry makes a new class, with type(), every time it parses a header;
# - every message parses and folds again the headers whose values are the same each time (the
#   dealer's From and Reply-To, MIME-Version, the parts' Content-Type and -Transfer-Encoding,
#   the Date of every message sent in the same second).


class _FoldedOnce(BaseHeader):
    """A parsed header that keeps its folded text per set of line rules: folding is pure."""

    def fold(self, *, policy: Any) -> str:
        key = (type(policy), policy.linesep, policy.utf8, policy.max_line_length)
        folded: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_folded", {})
        text = folded.get(key)
        if text is None:
            text = folded[key] = super().fold(policy=policy)
        return text


class _HeaderFactory(HeaderRegistry):
    """The default header factory, with its classes made once and repeated values parsed once.

    Header objects are immutable (a message replaces a header, never changes one), so one
    object can sit in many messages.
    """

    REPEATED = frozenset(
        {
            "from",
            "reply-to",
            "mime-version",
            "content-type",
            "content-transfer-encoding",
            "list-unsubscribe-post",
            "date",  # to the second: the same for every message sent in that second
        }
    )
    KEEP = 1024  # distinct values kept: a few per dealer, and the last minutes' dates

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)
        self._classes: dict[str, Any] = {}
        self._parsed: dict[tuple[str, str], Any] = {}

    def map_to_type(self, name: str, cls: Any) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()
        self._parsed.clear()

    def __getitem__(self, name: str) -> Any:
        cls = self._classes.get(name.lower())
        if cls is None:
            cls = self._classes[name.lower()] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> Any:
        lowered = name.lower()
        # A multipart's Content-Type carries its own random boundary: never seen twice.
        if lowered not in self.REPEATED or not isinstance(value, str) or "boundary" in value:
            return self[name](name, value)
        header = self._parsed.get((name, value))
        if header is None:
            if len(self._parsed) >= self.KEEP:
                self._parsed.clear()
            header = self._parsed[name, value] = self[name](name, value)
        return header

    def __deepcopy__(self, memo: dict[int, Any]) -> _HeaderFactory:
        return self  # shared, like the policy constants it stands in for


POLICY = default_policy.clone(header_factory=_HeaderFactory())


def _boundary(*texts: str) -> str:
    """Return a MIME boundary in the generator's own format that none of the texts contains."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if not any(boundary in text for text in texts):
            return boundary


class Transport(Protocol):
    async def send(self, email: EmailMessage) -> str: ...
    async def close(self) -> None: ...


class SMTPTransport:
    """One reused SMTP connection, opened on first use and again after a failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("RESUME_SMTP_URL must look like smtp://user:pass@host:port")
        self._options: dict[str, Any] = {
            "hostname": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "use_tls": parts.scheme == "smtps",
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "timeout": SMTP_TIMEOUT,
        }
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, email: EmailMessage) -> str:
        if self._client is None or not self._client.is_connected:
            self._client = aiosmtplib.SMTP(**self._options)
            await self._client.connect()
        try:
            _, reply = await self._client.send_message(email)
        except aiosmtplib.SMTPResponseException:
            raise  # a refusal leaves the session usable for the next message
        except BaseException:
            # Disconnected, timed out or cancelled mid-command: the session's state is unknown.
            self._client.close()
            self._client = None
            raise
        # aiosmtplib returns the text of the final reply; success after DATA is always 250.
        return f"250 {reply}"

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()
        self._client = None


class FolderTransport:
    """Keeps mail as .eml files for the local mail page, when no SMTP server is set."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    async def send(self, email: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
        token = re.sub(r"[^A-Za-z0-9]", "", str(email["Message-ID"]))[:16]
        path = self.folder / f"{stamp}-{token}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(email))
        os.replace(temporary, path)
        return f"250 kept in {path.name}"

    async def close(self) -> None:
        return None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url)
    return FolderTransport(settings.mail_dir)
