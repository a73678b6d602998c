"""The mail kept on disk, inside the dashboard (issue #13, item 3), as staff use it: a manager
reads the resume link a shopper was sent, and that read is in the audit; a rep sees only the
mail sent to them; another dealership's mail, a hostile name or a file that isn't ours is
not found; with SMTP set there is nothing kept and no page; /mail stays this machine's.
"""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import Shopper, Staff, Store, deliver, saved_for_later
from litestar.testing import TestClient
from test_dashboard_security import elsewhere, other_dealer

from resume.web.app import create_app

MANAGER = "morgan.mgr@demo-motors.example"


@pytest.fixture
def manager(client: Any, settings: Any) -> Staff:
    """A manager of Demo Motors: runs its outbox, so sees all of its kept mail."""
    return Staff.active(client, settings, MANAGER, "manager")


def kept(settings: Any, store: Store, draft_id: str) -> str:
    """The name of the file the resume link of `draft_id` was kept in."""
    (row,) = store.rows(
        "SELECT reply FROM outbox WHERE draft_id = :d AND kind = 'resume_link'", d=draft_id
    )
    name = str(row["reply"]).removeprefix("250 kept in ")
    assert (Path(settings.mail_dir) / name).is_file()
    return name


def views(store: Store) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT staff_id, dealer_id, subject, detail FROM audit "
        "WHERE action = 'mail_viewed' ORDER BY id"
    )
    for row in rows:
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
    return rows


def test_a_manager_reads_a_shoppers_mail_and_the_read_is_audited(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com")
    deliver(settings)
    name = kept(settings, store, draft_id)
    listing = manager.get("/dashboard/mail")
    assert listing.status_code == 200
    text = unescape(listing.text)
    assert 'aria-current="page">Mail</a>' in listing.text
    assert f'href="/dashboard/mail/{name}"' in listing.text
    assert "pat@example.com" in text and "Resume link" in text
    assert views(store) == []  # a list shows subjects and addresses, not the links

    page = manager.get(f"/dashboard/mail/{name}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "pat@example.com" in text and "Demo Motors" in text
    assert "http://127.0.0.1:8000/r/" in text  # the link, as the shopper got it
    assert "recorded in the audit" in text
    assert f'src="/dashboard/mail/{name}/html" sandbox' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "frame-src 'self'" in csp
    assert "script-src 'none'" in csp and page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"

    frame = manager.get(f"/dashboard/mail/{name}/html")
    assert frame.status_code == 200 and "/r/" in frame.text
    csp = frame.headers["content-security-policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "default-src 'none'" in csp
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"

    (message,) = store.rows(
        "SELECT id FROM outbox WHERE draft_id = :d AND kind = 'resume_link'", d=draft_id
    )
    (me,) = store.rows("SELECT id FROM staff WHERE email = :e", e=MANAGER)
    seen = views(store)
    assert [(v["staff_id"], v["dealer_id"], v["subject"]) for v in seen] == [
        (me["id"], 1, f"message:{message['id']}")
    ] * 2
    assert [v["detail"] for v in seen] == [
        {"kind": "resume_link", "part": "message", "shopper_link": True},
        {"kind": "resume_link", "part": "html", "shopper_link": True},
    ]


def test_a_rep_sees_only_the_mail_sent_to_them(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    # The rep tried the widget with their own address; a real shopper used it too.
    theirs = saved_for_later(Shopper(client), "pat@example.com")
    with elsewhere(settings) as browser:
        rep = Staff.active(browser, settings, "riley.rep@demo-motors.example", "sales")
        mine = saved_for_later(Shopper(browser), "Riley.Rep@demo-motors.example")
        deliver(settings)
        listing = rep.get("/dashboard/mail")
        assert listing.status_code == 200
        text = unescape(listing.text)
        assert "sent to you" in text and f"/dashboard/mail/{kept(settings, store, mine)}" in text
        assert "pat@example.com" not in text
        assert rep.get(f"/dashboard/mail/{kept(settings, store, mine)}").status_code == 200
        before = store.snapshot()
        for path in ("", "/html"):
            refused = rep.get(f"/dashboard/mail/{kept(settings, store, theirs)}{path}")
            assert refused.status_code == 404, path
            assert "pat@example.com" not in refused.text
        assert store.snapshot() == before  # nothing audited of what wasn't shown
    # The manager sees both.
    text = unescape(manager.get("/dashboard/mail").text)
    assert "pat@example.com" in text and "riley.rep@demo-motors.example" in text.lower()
    assert [v["detail"]["part"] for v in views(store)] == ["message"]


def test_another_dealerships_mail_is_not_found(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    other = other_dealer(settings)
    ours = saved_for_later(Shopper(client), "pat@example.com")
    with elsewhere(settings) as browser:
        hilltop = saved_for_later(Shopper(browser, dealer="hilltop-ford"), "sam@example.com")
        deliver(settings)
        theirs = kept(settings, store, hilltop)
        listing = unescape(manager.get("/dashboard/mail").text)
        assert "pat@example.com" in listing and "sam@example.com" not in listing
        before = store.snapshot()
        for path in ("", "/html"):
            refused = manager.get(f"/dashboard/mail/{theirs}{path}")
            assert refused.status_code == 404 and "sam@example.com" not in refused.text
        assert store.snapshot() == before
        # Their own admin reads it, and not ours.
        admin = Staff.active(browser, settings, "ari@hilltop.example", "admin", dealers=(other,))
        listing = unescape(admin.get("/dashboard/mail").text)
        assert "sam@example.com" in listing and "pat@example.com" not in listing
        assert admin.get(f"/dashboard/mail/{theirs}").status_code == 200
        assert admin.get(f"/dashboard/mail/{kept(settings, store, ours)}").status_code == 404
    assert [v["dealer_id"] for v in views(store)] == [other]


def test_hostile_names_and_files_that_are_not_ours_are_not_found(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com")
    deliver(settings)
    real = kept(settings, store, draft_id)
    folder = Path(settings.mail_dir)
    # A file with a Message-ID no row of ours has, one that isn't a message, one too big.
    (folder / "20990101-000000-000000-stranger.eml").write_bytes(
        b"Message-ID: <stranger@example.com>\r\nTo: x@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    )
    (folder / "20990101-000000-000000-junk.eml").write_bytes(bytes(range(256)) * 40)
    (folder / "20990101-000000-000000-huge.eml").write_bytes(b"x" * 5_000_001)
    (folder / "notes.txt").write_text("not mail")
    before = store.snapshot()
    for name in (
        "20990101-000000-000000-stranger.eml",
        "20990101-000000-000000-junk.eml",
        "20990101-000000-000000-huge.eml",
        "notes.txt",
        real.removesuffix(".eml"),
        real + ".bak",
        "..%2F..%2Fresume.db",
        "..%2Fmail%2F" + real,
        "%2E%2E%2F" + real,
        ".." + real,
        "." + real,
        real.replace(".eml", "%00.eml"),
        "a" * 5000 + ".eml",
        "nothing.eml",
    ):
        for path in (f"/dashboard/mail/{name}", f"/dashboard/mail/{name}/html"):
            assert manager.get(path).status_code == 404, path
    assert manager.get("/dashboard/mail/../../etc/passwd").status_code == 404
    for query in ("before=abc", "before=" + "9" * 40, "page=-1"):
        assert manager.get(f"/dashboard/mail?{query}").status_code == 400, query
    assert store.snapshot() == before
    # The folder's strangers aren't listed: the list is the outbox's rows, not the folder.
    listing = manager.get("/dashboard/mail")
    assert real in listing.text and "stranger" not in listing.text


def test_a_long_list_is_paged_last_sent_first(
    client: Any, settings: Any, store: Store, manager: Staff, monkeypatch: Any
) -> None:
    from resume.dashboard import mailroom

    monkeypatch.setattr(mailroom, "PAGE", 2)
    names = []
    for n in range(3):
        draft_id = saved_for_later(Shopper(client), f"shopper{n}@example.com")
        deliver(settings)  # one at a time: each is sent after the one before
        names.append(kept(settings, store, draft_id))
    first = manager.get("/dashboard/mail")
    assert "<title>Mail kept on disk · resume</title>" in first.text
    assert first.text.index(names[2]) < first.text.index(names[1])
    assert names[0] not in first.text
    older = manager.get(unescape(first.text.split('href="')[-1].split('" rel="next"')[0]))
    assert older.status_code == 200 and "(page 2)" in older.text
    assert names[0] in older.text and names[1] not in older.text and names[2] not in older.text
    assert 'rel="next"' not in older.text


def test_signed_out_the_pages_ask_to_sign_in(client: Any, settings: Any, store: Store) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com")
    deliver(settings)
    name = kept(settings, store, draft_id)
    for path in ("/dashboard/mail", f"/dashboard/mail/{name}", f"/dashboard/mail/{name}/html"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/dashboard/login"), path
        assert "pat@example.com" not in answer.text
    assert views(store) == []


def test_with_smtp_set_nothing_is_kept_and_there_is_no_page(
    client: Any, settings: Any, store: Store
) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com")
    deliver(settings)  # kept, before the operator set a mail server
    name = kept(settings, store, draft_id)
    with_smtp = msgspec.structs.replace(settings, smtp_url="smtp://relay.example:25")
    with TestClient(create_app(with_smtp), base_url="http://127.0.0.1:8000") as browser:
        admin = Staff.active(browser, with_smtp, "ada@demo-motors.example", "admin")
        leads = admin.get("/dashboard/leads")
        assert leads.status_code == 200 and 'href="/dashboard/mail"' not in leads.text
        for path in ("/dashboard/mail", f"/dashboard/mail/{name}", f"/dashboard/mail/{name}/html"):
            assert admin.get(path).status_code == 404, path
        assert browser.get("/mail").status_code == 404
    assert views(store) == []


def test_slash_mail_stays_for_this_machine_only(client: Any, settings: Any, store: Store) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com")
    deliver(settings)
    name = kept(settings, store, draft_id)
    # This machine still reads it, through the same reading code as the dashboard.
    assert name in client.get("/mail").text
    assert "/r/" in client.get(f"/mail/{name}").text
    # Reached by another name, as through a proxy, it is not there, signed in or not.
    with TestClient(create_app(settings), base_url="http://resume.dealer.example") as outside:
        for path in ("/mail", f"/mail/{name}", f"/mail/{name}/html"):
            assert outside.get(path).status_code == 404, path
