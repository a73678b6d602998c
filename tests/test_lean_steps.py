"""The step's own routes (resume.web.lean_steps) answer as the framework routes did.

Every other test posts and shows steps through them too (the test client's requests are
plain ones); here the same requests go once through them and once through Litestar's
routes, which still take what the lean routes leave (a trailing slash here), and the answers
are compared whole: status, headers, page, and what was stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from conftest import TOKEN, VEHICLE, Shopper, Store

from resume.web import lean_steps

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


def _views(store: Store, draft_id: str, expected: int) -> int:
    """The views recorded of the draft's pages, once there are `expected` (the writer records
    a view within moments of its page) or after two seconds."""
    for _ in range(40):
        found = len(store.views(draft_id))
        if found >= expected:
            return found
        time.sleep(0.05)
    return found


@pytest.mark.parametrize(
    ("step", "query"),
    [
        pytest.param("vehicle", lambda token: f"d={token}", id="the step reached"),
        pytest.param("vehicle", lambda token: f"d={token}&d=x", id="a credential given twice"),
        pytest.param("vehicle", lambda token: f"d={token}&lang=es", id="another language"),
        pytest.param("vehicle", lambda token: f"d={token}&lang=xx", id="a language not offered"),
        pytest.param("vehicle", lambda token: f"d={token}&check=1&x=%ZZ", id="a broken escape"),
        pytest.param("vehicle", lambda token: "", id="the first step without its link"),
        pytest.param("plan", lambda token: f"d={token}", id="a step not reached"),
        pytest.param("plan", lambda token: "", id="a later step without its link"),
        pytest.param("vehicle", lambda token: f"d={token[:-2]}", id="a tampered credential"),
        pytest.param("vehicle", lambda token: "d=", id="an empty credential"),
        pytest.param("nowhere", lambda token: f"d={token}", id="an unknown step"),
        pytest.param("save", lambda token: f"d={token}&from=vehicle", id="save for later"),
    ],
)
def test_a_step_page_is_the_framework_routes_page(
    client: Any, store: Store, step: str, query: Any
) -> None:
    shopper = Shopper(client)
    shopper.start()
    before = store.snapshot()
    lean, framework = (
        _answer(client.get(f"{path}?{query(shopper.token)}", follow_redirects=False))
        for path in (f"{BASE}/{step}", f"{BASE}/{step}/")
    )
    assert store.snapshot() == before
    # The draft is not saved yet: a page that signs it a credential signs a new id each time
    # (the saved draft's page, below, keeps the one it was given).
    lean, framework = ((*a[:2], TOKEN.sub("(credential)", a[2])) for a in (lean, framework))
    assert lean == framework
    status, headers, _ = lean
    assert status < 500  # a bad address is a clear 4xx page, never a server error
    assert "frame-ancestors http://localhost:8000" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_a_saved_step_shows_the_same_page_and_view_through_both_routes(
    client: Any, store: Store
) -> None:
    shopper = Shopper(client)
    shopper.start()
    saved = shopper.post("vehicle", {"d": shopper.token, "comment_hp": "", **VEHICLE})
    assert saved.status_code == 200 and "/plan?d=" in str(saved.url)
    token = shopper.token
    assert _views(store, shopper.draft_id, 1) == 1  # the page the save redirected to
    lean = client.get(f"{BASE}/plan?d={token}")
    framework = client.get(f"{BASE}/plan/?d={token}")
    assert lean.status_code == 200 and _answer(lean) == _answer(framework)
    # The page is the draft's: its form posts the credential it was given, to its own step.
    assert f'value="{token}"' in lean.text
    assert 'action="/embed/demo-motors/payment/plan"' in lean.text
    # Each GET records one view of the step; a HEAD records none and sends no body.
    assert _views(store, shopper.draft_id, 3) == 3
    head = client.head(f"{BASE}/plan?d={token}")
    head_framework = client.head(f"{BASE}/plan/?d={token}")
    assert head.status_code == 200 and head.content == b""
    assert {k: v for k, v in head.headers.items() if k not in VARYING} == {
        k: v for k, v in head_framework.headers.items() if k not in VARYING
    }
    assert head.headers["content-length"] == lean.headers["content-length"]
    client.get(f"{BASE}/plan?d={token}")  # a GET after the HEADs: its view is the only new one
    assert _views(store, shopper.draft_id, 5) == 4


def test_a_file_to_save_is_still_sent_by_the_framework(client: Any) -> None:
    lean = client.get("/embed/demo-motors/credit/notice?download=1")
    framework = client.get("/embed/demo-motors/credit/notice/?download=1")
    assert lean.status_code == 200 and _answer(lean) == _answer(framework)
    assert lean.headers["content-disposition"].startswith("attachment;")
    assert lean.headers["content-type"].startswith("text/plain")


def _scope(method: str, path: str, host: bytes = b"localhost:8000", **extra: Any) -> Any:
    return {"method": method, "path": path, "headers": [(b"host", host)], **extra}


@pytest.mark.parametrize(
    ("scope", "names"),
    [
        (_scope("GET", "/embed/demo-motors/payment/plan"), ("demo-motors", "payment", "plan")),
        (_scope("POST", "/embed/demo-motors/payment/plan"), ("demo-motors", "payment", "plan")),
        (_scope("GET", "/embed/d/w/s", host=b"[::1]:8000"), ("d", "w", "s")),
        (_scope("GET", "/embed/demo-motors/payment/plan/"), None),
        (_scope("GET", "/embed/demo-motors/payment"), None),
        (_scope("GET", "/embed/demo-motors/payment/plan", root_path="/w"), None),
        (_scope("GET", "/embed/demo-motors/payment/plan", host=b"a b"), None),
        (_scope("PUT", "/embed/demo-motors/payment/plan"), None),
        (_scope("HEAD", "/embed/demo-motors/payment/plan"), None),  # App makes it a GET first
        (_scope("GET", "/r/demo-motors/payment/plan"), None),
    ],
)
def test_the_lean_routes_take_plain_step_requests_only(scope: Any, names: Any) -> None:
    assert lean_steps.taken(scope) == names
