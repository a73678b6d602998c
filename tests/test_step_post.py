"""The step POST's own route (resume.web.step_post) answers as the framework route did.

Every other test posts steps through it too (the test client's requests are plain ones);
here the same posts go once through it and once through Litestar's route, which still takes
what the lean route leaves (a trailing slash here), and the answers are compared whole:
status, headers, page, and what was stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from conftest import VEHICLE, Shopper, Store

BASE = "/embed/demo-motors/payment"
FORM = "application/x-www-form-urlencoded"
# Headers that differ between any two answers: the request's id, the body's length (the
# page quotes the id), and the new draft's credential in the address.
VARYING = {"x-request-id", "content-length", "location"}


def _answer(response: Any) -> tuple[int, dict[str, str], str]:
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    if response.status_code == 303:
        # Litestar's redirect names a type for its empty body; the lean one sends none.
        headers.pop("content-type", None)
    page = re.sub(r"[0-9a-f]{16}", "(id)", unescape(response.text))
    return response.status_code, headers, page


@pytest.mark.parametrize(
    "posted",
    [
        pytest.param(lambda token: {"d": token, "comment_hp": "", **VEHICLE}, id="a step"),
        pytest.param(lambda token: {"d": token + "x", **VEHICLE}, id="a tampered credential"),
        pytest.param(lambda token: {"d": token, "action": "delete"}, id="an unknown button"),
        pytest.param(lambda token: {"d": token, "is_admin": "1"}, id="an unknown field"),
        pytest.param(lambda token: {"d": token, "comment_hp": "bot"}, id="the honeypot"),
        pytest.param(lambda token: {"d": token, "make": "x" * 30_000}, id="a body too large"),
    ],
)
def test_the_step_post_answers_as_the_framework_route(
    client: Any, store: Store, posted: Any
) -> None:
    answers = []
    for path in (f"{BASE}/vehicle", f"{BASE}/vehicle/"):
        shopper = Shopper(client)
        shopper.start()
        response = client.post(path, data=posted(shopper.token), follow_redirects=False)
        stored = store.rows(
            "SELECT name, value FROM field_values WHERE draft_id = :d", d=shopper.draft_id
        )
        answers.append((*_answer(response), sorted((r["name"], r["value"]) for r in stored)))
        if response.status_code == 303:
            assert response.headers["location"].startswith(f"{BASE}/plan?d=")
    lean, framework = answers
    assert lean == framework
    status, headers, _, _ = lean
    assert "script-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors http://localhost:8000" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path", ["/embed/nobody/payment/vehicle", "/embed/demo-motors/nothing/vehicle"]
)
def test_an_unknown_dealer_or_widget_is_the_same_404(client: Any, path: str) -> None:
    lean = client.post(path, data={"d": "x"})
    framework = client.post(path + "/", data={"d": "x"})
    assert lean.status_code == 404 and _answer(lean) == _answer(framework)


def test_a_body_streamed_past_the_limit_is_refused_unread(
    client: Any, store: Store, settings: Any
) -> None:
    shopper = Shopper(client)
    shopper.start()
    before = store.snapshot()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size shows only as it arrives
        yield f"d={shopper.token}&make=".encode()
        for _ in range(settings.max_body_bytes // 1000 + 1):
            yield b"x" * 1000

    response = client.post(f"{BASE}/vehicle", content=chunks(), headers={"content-type": FORM})
    assert response.status_code == 413 and "too large" in unescape(response.text)
    assert "frame-ancestors http://localhost:8000" in response.headers["content-security-policy"]
    assert store.snapshot() == before
