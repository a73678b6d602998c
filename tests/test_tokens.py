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
    token = Signer((NEW,)).sign_form(FormCredential(1, "payment", "r4nd0m", 1, 2))
    assert token.split(".")[:6] == ["1", "payment", "r4nd0m", "1", "2", "0"]


@pytest.mark.parametrize(
    "payload",
    [
        b"1.payment.abc.1.2",
        b"x.payment.abc.1.2.0",
        b"1.Pay Ment.abc.1.2.0",
        b"1.payment.a/b.1.2.0",
        b"1.payment.abc.1.2.7",
        b"-1.payment.abc.1.2.0",
    ],
)
def test_a_well_signed_but_malformed_payload_is_refused(payload: bytes) -> None:
    from itsdangerous import TimestampSigner

    from resume.tokens import FORM

    token = TimestampSigner([NEW], salt=FORM).sign(payload).decode()
    with pytest.raises(TokenInvalid):
        Signer((NEW,)).verify_form(token, max_age=60)
