"""Signed tokens, one salt per purpose, max_age always (design rule 5, style rule 4).

Payloads are readable by anyone who holds the token, so they carry opaque ids and numbers
only: a random draft id, its version, never an email or a name.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import msgspec
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from resume.errors import TokenExpired, TokenInvalid

FORM = "resume.form"
RESUME = "resume.link"


class FormCredential(msgspec.Struct, frozen=True, array_like=True):
    """What a page's hidden `d` field proves: this browser may save this draft."""

    dealer_id: int
    widget: str
    draft_id: str  # "" until the first save creates the draft
    version: int = 0
    revision: int = 0
    # Set on the page a resume link opens; the next save counts as "resumed".
    resumed: bool = False


class ResumeLink(msgspec.Struct, frozen=True, array_like=True):
    dealer_id: int
    draft_id: str
    version: int


class Signer:
    """Signs and verifies each purpose's tokens with the rotating key list."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        # itsdangerous signs with the last key and verifies with any of them.
        self._serializers = {
            purpose: URLSafeTimedSerializer(list(secret_keys), salt=purpose)
            for purpose in (FORM, RESUME)
        }

    def sign_form(self, credential: FormCredential) -> str:
        return self._serializers[FORM].dumps(msgspec.to_builtins(credential))

    def verify_form(self, token: str, *, max_age: int) -> tuple[FormCredential, float]:
        """Return the credential and the seconds since its page was rendered."""
        payload, signed_at = self._loads(FORM, token, max_age)
        credential = _convert(payload, FormCredential)
        return credential, max(0.0, time.time() - signed_at.timestamp())

    def sign_resume(self, link: ResumeLink) -> str:
        return self._serializers[RESUME].dumps(msgspec.to_builtins(link))

    def verify_resume(self, token: str, *, max_age: int) -> tuple[ResumeLink, dt.datetime]:
        payload, signed_at = self._loads(RESUME, token, max_age)
        return _convert(payload, ResumeLink), signed_at

    def expired_resume(self, error: TokenExpired) -> ResumeLink | None:
        """Read the ids out of a well-signed but expired link, to offer a fresh one."""
        try:
            return _convert(error.payload, ResumeLink)
        except TokenInvalid:
            return None

    def _loads(self, purpose: str, token: str, max_age: int) -> tuple[Any, dt.datetime]:
        if not token or len(token) > 1024:
            raise TokenInvalid("This link or form is incomplete.")
        try:
            return self._serializers[purpose].loads(token, max_age=max_age, return_timestamp=True)
        except SignatureExpired as exc:
            try:
                payload = self._serializers[purpose].load_payload(exc.payload)  # type: ignore[arg-type]
            except BadSignature:
                payload = None
            raise TokenExpired("This link has expired.", payload=payload) from None
        except BadSignature:
            raise TokenInvalid("This link or form has been changed or is not ours.") from None


def _convert(payload: Any, kind: type[Any]) -> Any:
    try:
        return msgspec.convert(payload, kind)
    except msgspec.ValidationError:
        raise TokenInvalid("This link or form is not one of ours.") from None
