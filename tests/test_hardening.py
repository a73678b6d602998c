"""Hardening (issue #12): HEAD on every GET route, security headers on every response, and
invisible characters made visible wherever staff (and the shopper's own email) read
shopper text, while what was typed stays stored as typed.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import (
    NUMBERS,
    SECRET_KEYS,
    VEHICLE,
    Mailbox,
    Shopper,
    Store,
    deliver,
    links_in,
    saved_for_later,
)
from litestar.testing import TestClient

from resume.tokens import ResumeLink, Signer
from resume.web.app import create_app

BIDI = "\u202eevil\u202c"


def head_and_get(client: Any, path: str) -> tuple[Any, Any]:
    return client.head(path, follow_redirects=False), client.get(path, follow_redirects=False)


@pytest.mark.parametrize(
    "path",
    [
        "/embed/demo-motors/payment",
        "/embed/demo-motors/credit/notice",
        "/healthz",
        "/readyz",
        "/mail",
        "/demo",
        "/dashboard/login",
        "/dashboard/leads",
        "/style/demo-motors",
        "/embed/nobody/payment",
        "/r/not-a-token",
    ],
)
def test_head_answers_every_get_route_with_its_status_and_headers_and_no_body(
    client: Any, path: str
) -> None:
    head, get = head_and_get(client, path)
    assert head.status_code == get.status_code
    assert head.content == b""
    for name in ("content-type", "content-security-policy", "x-content-type-options", "location"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_of_a_resume_link_or_a_step_changes_nothing(settings: Any, store: Store) -> None:
    """Link scanners send HEAD first: it must record no view and no "link opened"."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        draft_id = saved_for_later(Shopper(client), "pat@example.com")
    credential = store.credential(draft_id)
    token = Signer(SECRET_KEYS).sign_resume(ResumeLink(1, draft_id, 1))
    before = store.snapshot()
    views = store.rows("SELECT * FROM events WHERE kind IN ('step_viewed', 'link_opened')")
    # Views are written by the writer within a second, or when the app stops: stopped here.
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.head(f"/r/{token}").status_code == 200
        assert client.head(f"/embed/demo-motors/payment/numbers?d={credential}").status_code == 200
        assert client.head("/embed/demo-motors/payment").status_code == 200
    assert store.snapshot() == before
    # No view, no "link opened": a scanner's HEAD is not a visit.
    assert store.rows("SELECT * FROM events WHERE kind IN ('step_viewed', 'link_opened')") == views
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.get(f"/r/{token}").status_code == 200
    assert store.views(draft_id)[-1] == "link_opened"  # the GET is seen, for the timeline


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/demo"),
        ("OPTIONS", "/embed/demo-motors/payment"),
        ("OPTIONS", "/dashboard/login"),
        ("GET", "/no/such/page"),
        ("DELETE", "/embed/demo-motors/payment"),
        ("GET", "/dashboard/leads"),
        ("POST", "/embed/demo-motors/payment/vehicle"),
    ],
)
def test_every_response_carries_the_security_headers(client: Any, method: str, path: str) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code < 500
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'none'" in csp and "frame-ancestors" in csp, (method, path, csp)
    assert response.headers.get("x-content-type-options") == "nosniff"
    if "frame-ancestors 'none'" in csp:
        assert response.headers.get("x-frame-options") == "DENY"


def test_widget_pages_stay_frameable_by_the_dealer_only(client: Any) -> None:
    page = client.get("/embed/demo-motors/payment")
    assert "frame-ancestors http://localhost:8000" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers


def test_invisible_characters_are_shown_to_staff_and_stored_as_typed(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **{**VEHICLE, "make": f"Toy{BIDI}ota"})
    draft_id = shopper.draft_id
    shopper.fill("numbers", **NUMBERS)
    shopper.fill("result", action="save")
    shopper.fill("save", action="send", email="pat@example.com", consent_followup="yes")
    shopper.open(f"/embed/demo-motors/payment/result?d={store.credential(draft_id)}")
    shopper.fill("result", action="showroom")
    assert store.values(draft_id)["make"]["value"] == f"Toy{BIDI}ota"  # stored as typed
    deliver(settings, mailbox.url)
    assert mailbox.messages
    for message in mailbox.messages:
        subject = str(message["Subject"])
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for text in (subject, body):
            assert "\u202e" not in text and "\u202c" not in text, (message["To"], text[:200])
    alert = next(m for m in mailbox.messages if m["To"] == "leads@demo-motors.example")
    assert "[U+202E]" in str(alert["Subject"])
    # The shopper's own email shows it too, and their link still opens their answers.
    own = next(m for m in mailbox.messages if m["To"] == "pat@example.com")
    assert links_in(own)
