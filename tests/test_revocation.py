"""Revocation: bumping a draft's version voids every credential issued for it so far, on
every route and method (issue #12, item 1).

Each kind of credential a shopper can hold is taken before the revocation and tried after
it: the first page's (made before the draft existed), a step page's, the one in a save's
redirect, a resume link, the save-for-later page's, and the consent page's notice proof.
Every one gets the revoked page and stores nothing.

The revocation is written straight to the database, as another process would, and tried from
a second app: a process serves a page from the copy its last save left for a few seconds
(resume.autosave, PAGE_CACHE_SECONDS), but never saves from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import NUMBERS, SECRET_KEYS, VEHICLE, Shopper, Store
from litestar.testing import TestClient
from test_credit import _to_consent

from resume.tokens import ResumeLink, Signer
from resume.web.app import create_app

REVOKE = "UPDATE drafts SET version = version + 1, revision = revision + 1 WHERE id = :d"


def _credentials(shopper: Shopper) -> dict[str, str]:
    """A payment shopper's every credential, in the order the shopper met them."""
    first = shopper.start()
    found = {"first page": shopper.token}
    assert first.status_code == 200
    saved = shopper.client.post(
        "/embed/demo-motors/payment/vehicle",
        data={"d": shopper.token, "comment_hp": "", "action": "continue", **VEHICLE},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    found["redirect"] = parse_qs(urlsplit(saved.headers["location"]).query)["d"][0]
    shopper.open(saved.headers["location"])
    shopper.fill("numbers", **NUMBERS)
    assert "Your estimated payment" in shopper.page.text
    found["step page"] = shopper.token
    shopper.fill("result", action="save")
    assert 'action="/embed/demo-motors/payment/save"' in shopper.page.text
    found["save page"] = shopper.token
    assert len(set(found.values())) == len(found)
    return found


@pytest.fixture
def elsewhere(settings: Any) -> Iterator[TestClient[Any]]:
    """A second app on the same database: another server process."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as other:
        yield other


@pytest.fixture
def revoked(
    shopper: Shopper, store: Store, elsewhere: TestClient[Any]
) -> tuple[Shopper, dict[str, str], str]:
    """A payment shopper who holds every kind of credential, a draft revoked since, and the
    shopper now talking to the other process."""
    credentials = _credentials(shopper)
    draft_id = shopper.draft_id
    row = store.one("SELECT version FROM drafts WHERE id = :d", d=draft_id)
    link = Signer(SECRET_KEYS).sign_resume(ResumeLink(1, draft_id, row["version"]))
    credentials["resume link"] = link
    store.execute(REVOKE, d=draft_id)
    shopper.client = elsewhere
    return shopper, credentials, draft_id


KINDS = ("first page", "redirect", "save page", "step page")

# What the numbers step itself asks (the plan and the credit band are the step before's).
NUMBERS_STEP = {name: value for name, value in NUMBERS.items() if name not in {"plan", "credit"}}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "vehicle", None),
        ("GET", "numbers", None),
        ("GET", "save", None),
        ("GET", "showroom", None),
        ("POST", "vehicle", {"action": "continue", **VEHICLE, "price": "1"}),
        ("POST", "numbers", {"action": "back", **NUMBERS_STEP}),
        ("POST", "numbers", {"action": "save", **NUMBERS_STEP}),
        ("POST", "save", {"action": "send", "from": "numbers", "email": "x@example.com"}),
    ],
)
def test_no_credential_outlives_a_revocation(
    revoked: tuple[Shopper, dict[str, str], str],
    store: Store,
    kind: str,
    method: str,
    path: str,
    form: dict[str, str] | None,
) -> None:
    shopper, credentials, draft_id = revoked
    before = store.snapshot()
    token = credentials[kind]
    url = f"/embed/demo-motors/payment/{path}"
    if method == "GET":
        response = shopper.client.get(f"{url}?d={token}")
    else:
        response = shopper.client.post(
            url, data={"d": token, "comment_hp": "", **(form or {})}, follow_redirects=False
        )
    assert response.status_code == 410, (kind, method, path, response.text[:300])
    assert "no longer valid" in response.text
    assert 'name="d"' not in response.text  # no fresh credential handed out
    assert store.snapshot() == before


def test_a_revoked_resume_link_opens_nothing_and_offers_a_fresh_one(
    revoked: tuple[Shopper, dict[str, str], str], store: Store
) -> None:
    shopper, credentials, _ = revoked
    before = store.snapshot()
    page = shopper.client.get(f"/r/{credentials['resume link']}")
    assert page.status_code == 410 and "Email me a new link" in page.text
    assert 'name="d"' not in page.text.split("renew")[0]
    assert store.snapshot() == before


def test_a_notice_shown_before_a_revocation_cannot_agree(
    client: Any, elsewhere: TestClient[Any], store: Store
) -> None:
    """The consent page's proof that the notice was shown belongs to the draft's version:
    revoked, even a fresh page's credential cannot agree with it."""
    applicant = Shopper(client, widget="credit")
    _to_consent(applicant)
    draft_id = applicant.draft_id
    proof = re.search(r'name="notice" value="([^"]+)"', applicant.page.text)
    assert proof
    old_page = applicant.token
    store.execute(REVOKE, d=draft_id)
    fresh = store.credential(draft_id, "credit")
    before = store.snapshot()
    for token in (old_page, fresh):
        agreed = elsewhere.post(
            "/embed/demo-motors/credit/consent",
            data={"d": token, "comment_hp": "", "action": "agree", "notice": proof.group(1)},
            follow_redirects=False,
        )
        assert agreed.status_code == 410, agreed.text[:300]
    assert store.snapshot() == before
    assert store.rows("SELECT * FROM prequals WHERE draft_id = :d", d=draft_id) == []
