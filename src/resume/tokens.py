"""Signed tokens, one salt per purpose, max_age always (design rule 5, style rule 4).

Payloads are readable by anyone who holds the token, so they carry opaque ids and numbers
only: a random draft id, its version, never an email or a name. They are plain dot-separated
fields under itsdangerous' TimestampSigner rather than its JSON serializer: a step signs and
verifies twice, and the JSON + zlib round costs three times the signature (issue #2 bench).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from typing import Any

import msgspec
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from resume.errors import TokenExpired, TokenInvalid

FORM = "resume.form"
RESUME = "resume.link"
UNSUBSCRIBE = "resume.unsubscribe"
NOTICE = "resume.notice"
INVITE = "resume.invite"
STAFF_FORM = "resume.staff-form"
STAFF_DONE = "resume.staff-done"

_ID = re.compile(r"^[A-Za-z0-9_-]{0,64}$")
_SLUG = re.compile(r"^[a-z0-9-]{1,32}$")


def new_draft_id() -> str:
    """Return a random, unguessable draft id; it starts with a letter so that it is never
    taken for an option on the command line (`resume lead status ID ...`)."""
    return "d" + secrets.token_urlsafe(16)


class FormCredential(msgspec.Struct, frozen=True):
    """What a page's hidden `d` field proves: this browser may save this draft."""

    dealer_id: int
    widget: str
    draft_id: str  # "" until the first save creates the draft
    version: int = 0
    revision: int = 0
    # Set on the page a resume link opens; the next save counts as "resumed".
    resumed: bool = False

    def encode(self) -> bytes:
        return (
            f"{self.dealer_id}.{self.widget}.{self.draft_id}.{self.version}."
            f"{self.revision}.{int(self.resumed)}"
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> FormCredential:
        parts = _split(raw, 6)
        if not _SLUG.match(parts[1]) or not _ID.match(parts[2]) or parts[5] not in {"0", "1"}:
            raise TokenInvalid("This link or form is not one of ours.")
        return cls(
            _int(parts[0]), parts[1], parts[2], _int(parts[3]), _int(parts[4]), parts[5] == "1"
        )


class ResumeLink(msgspec.Struct, frozen=True):
    dealer_id: int
    draft_id: str
    version: int

    def encode(self) -> bytes:
        return f"{self.dealer_id}.{self.draft_id}.{self.version}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> ResumeLink:
        parts = _split(raw, 3)
        if not parts[1] or not _ID.match(parts[1]):
            raise TokenInvalid("This link or form is not one of ours.")
        return cls(_int(parts[0]), parts[1], _int(parts[2]))


class UnsubscribeLink(msgspec.Struct, frozen=True):
    """Which message's recipient asks to stop: the address is read from the outbox row."""

    dealer_id: int
    message_id: int

    def encode(self) -> bytes:
        return f"{self.dealer_id}.{self.message_id}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> UnsubscribeLink:
        parts = _split(raw, 2)
        return cls(_int(parts[0]), _int(parts[1]))


class NoticeShown(msgspec.Struct, frozen=True):
    """Proof that the consent page showed this notice text to this draft, at its version: an
    "I agree" is accepted only with it, so a forged POST can't consent to words nobody saw,
    and a revocation voids it like every other credential."""

    draft_id: str
    text_hash: str  # hex SHA-256 of the notice as shown
    version: int

    def encode(self) -> bytes:
        return f"{self.draft_id}.{self.text_hash}.{self.version}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> NoticeShown:
        parts = _split(raw, 3)
        if not parts[0] or not _ID.match(parts[0]) or not re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            raise TokenInvalid("This agreement page is not one of ours.")
        return cls(parts[0], parts[1], _int(parts[2]))


class Invite(msgspec.Struct, frozen=True):
    """A one-time invitation to set a password and enrol MFA: the account and the nonce
    stored on it, which the next invitation or the enrolment replaces."""

    staff_id: int
    nonce: str

    def encode(self) -> bytes:
        return f"{self.staff_id}.{self.nonce}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> Invite:
        parts = _split(raw, 2)
        if not parts[1] or not _ID.match(parts[1]):
            raise TokenInvalid("This invitation is not one of ours.")
        return cls(_int(parts[0]), parts[1])


class Done(msgspec.Struct, frozen=True):
    """What the `done` of a lead page's address proves: this account has just sent this form
    for this lead. The page a form redirects back to is part of the visit the form's own
    audit row records, so it is not audited again; a `done` typed by hand proves nothing,
    and the view is audited (design rule 11)."""

    staff_id: int
    lead_id: int
    action: str

    def encode(self) -> bytes:
        return f"{self.staff_id}.{self.lead_id}.{self.action}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> Done:
        parts = _split(raw, 3)
        if not re.fullmatch(r"[a-z-]{1,24}", parts[2]):
            raise TokenInvalid("This link is not one of ours.")
        return cls(_int(parts[0]), _int(parts[1]), parts[2])


class Signer:
    """Signs and verifies each purpose's tokens with the rotating key list."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        # itsdangerous signs with the last key and verifies with any of them.
        self._signers = {
            purpose: TimestampSigner(list(secret_keys), salt=purpose)
            for purpose in (FORM, RESUME, UNSUBSCRIBE, NOTICE, INVITE, STAFF_FORM, STAFF_DONE)
        }

    def sign_form(self, credential: FormCredential) -> str:
        return self._signers[FORM].sign(credential.encode()).decode()

    def verify_form(self, token: str, *, max_age: int) -> tuple[FormCredential, float]:
        """Return the credential and the seconds since its page was rendered."""
        raw, signed_at = self._unsign(FORM, token, max_age)
        return FormCredential.decode(raw), max(0.0, time.time() - signed_at.timestamp())

    def sign_resume(self, link: ResumeLink) -> str:
        return self._signers[RESUME].sign(link.encode()).decode()

    def verify_resume(self, token: str, *, max_age: int) -> tuple[ResumeLink, dt.datetime]:
        raw, signed_at = self._unsign(RESUME, token, max_age)
        return ResumeLink.decode(raw), signed_at

    def sign_unsubscribe(self, link: UnsubscribeLink) -> str:
        return self._signers[UNSUBSCRIBE].sign(link.encode()).decode()

    def verify_unsubscribe(self, token: str, *, max_age: int) -> UnsubscribeLink:
        raw, _ = self._unsign(UNSUBSCRIBE, token, max_age)
        return UnsubscribeLink.decode(raw)

    def sign_notice(self, shown: NoticeShown) -> str:
        return self._signers[NOTICE].sign(shown.encode()).decode()

    def verify_notice(self, token: str, *, max_age: int) -> NoticeShown:
        raw, _ = self._unsign(NOTICE, token, max_age)
        return NoticeShown.decode(raw)

    def sign_invite(self, invite: Invite) -> str:
        return self._signers[INVITE].sign(invite.encode()).decode()

    def verify_invite(self, token: str, *, max_age: int) -> Invite:
        raw, _ = self._unsign(INVITE, token, max_age)
        return Invite.decode(raw)

    def sign_staff_form(self, value: str) -> str:
        """A sign-in page's CSRF token: the random value of its pre-session cookie, signed."""
        return self._signers[STAFF_FORM].sign(value.encode()).decode()

    def verify_staff_form(self, token: str, *, max_age: int) -> str:
        raw, _ = self._unsign(STAFF_FORM, token, max_age)
        return raw.decode("ascii", "replace")

    def sign_done(self, done: Done) -> str:
        return self._signers[STAFF_DONE].sign(done.encode()).decode()

    def verify_done(self, token: str, *, max_age: int) -> Done:
        raw, _ = self._unsign(STAFF_DONE, token, max_age)
        return Done.decode(raw)

    def expired_resume(self, error: TokenExpired) -> ResumeLink | None:
        """Read the ids out of a well-signed but expired link, to offer a fresh one."""
        try:
            return ResumeLink.decode(error.payload) if isinstance(error.payload, bytes) else None
        except TokenInvalid:
            return None

    def _unsign(self, purpose: str, token: str, max_age: int) -> tuple[bytes, dt.datetime]:
        if not token or len(token) > 512 or not token.isascii():
            raise TokenInvalid("This link or form is incomplete.")
        try:
            raw, signed_at = self._signers[purpose].unsign(
                token, max_age=max_age, return_timestamp=True
            )
        except SignatureExpired as exc:
            raise TokenExpired("This link has expired.", payload=exc.payload) from None
        except BadSignature:
            raise TokenInvalid("This link or form has been changed or is not ours.") from None
        return raw, signed_at


def _split(raw: Any, count: int) -> list[str]:
    parts = raw.decode("ascii", "replace").split(".")
    if len(parts) != count:
        raise TokenInvalid("This link or form is not one of ours.")
    return parts


def _int(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise TokenInvalid("This link or form is not one of ours.")
    return int(text)
