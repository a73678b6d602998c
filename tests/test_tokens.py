"""Signed tokens: one salt per purpose, max_age always, rotating keys, opaque payloads."""

from __future__ import annotations

import time

import pytest

from resume.errors import TokenExpired, TokenInvalid
from resume.tokens import FormCredential, ResumeLink, Signer

OLD, NEW = "old-key-0123456789abcdef", "new-key-0123456789abcdef"


def test_a_form_credential_round_trips_with_its_age() -> None:
    signer = Signer((NEW,))
    token = signer.sign_form(FormCredential(1, "payment", "abc", 2, 7, True))
    credential, age = signer.verify_form(token, max_age=60)
    assert credential == FormCredential(1, "payment", "abc", 2, 7, True)
    assert 0 <= age < 5


def test_a_tampered_token_is_refused() -> None:
    signer = Signer((NEW,))
    token = signer.sign_form(FormCredential(1, "payment", "abc"))
    payload, rest = token.split(".", 1)
    with pytest.raises(TokenInvalid):
        signer.verify_form(payload[:-2] + "xx." + rest, max_age=60)
    with pytest.raises(TokenInvalid):
        signer.verify_form("", max_age=60)
    with pytest.raises(TokenInvalid):
        signer.verify_form("x" * 5000, max_age=60)


def test_purposes_do_not_mix() -> None:
    signer = Signer((NEW,))
    link = signer.sign_resume(ResumeLink(1, "abc", 1))
    with pytest.raises(TokenInvalid):
        signer.verify_form(link, max_age=60)


def test_expired_tokens_say_so_and_keep_their_ids() -> None:
    signer = Signer((NEW,))
    link = signer.sign_resume(ResumeLink(1, "abc", 3))
    time.sleep(1.1)
    with pytest.raises(TokenExpired) as raised:
        signer.verify_resume(link, max_age=0)
    assert signer.expired_resume(raised.value) == ResumeLink(1, "abc", 3)


def test_a_token_signed_with_the_previous_key_still_verifies() -> None:
    token = Signer((OLD,)).sign_resume(ResumeLink(1, "abc", 1))
    rotated = Signer((OLD, NEW))
    assert rotated.verify_resume(token, max_age=60)[0].draft_id == "abc"
    with pytest.raises(TokenInvalid):
        Signer((NEW,)).verify_resume(token, max_age=60)


def test_payloads_hold_only_opaque_ids() -> None:
    import base64
    import json

    token = Signer((NEW,)).sign_form(FormCredential(1, "payment", "r4nd0m", 1, 2))
    body = token.split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert decoded == [1, "payment", "r4nd0m", 1, 2, False]
