"""Save for later, idempotent and fair, and limits that hold across processes (issue #12,
items 3 and 4), against real `resume serve` processes.

- Ten concurrent "save and finish later" posts for one draft record one consent and queue one
  email.
- The per-address limit counts links actually queued; a repeat for the same draft within the
  hour is "on its way" and counts nothing.
- Drafts naming someone else's address are limited by the client address that sends them, so
  nobody can block another person's own link.
- A post refused by a limit still stores what was typed, and says what did not happen.
- On PostgreSQL, two processes share the per-draft and per-recipient limits.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import NUMBERS, TOKEN, VEHICLE, Store, child_env, free_port, seed_demo

pytestmark = pytest.mark.slow

WIDGET = "/embed/demo-motors/payment"


def sqlite_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_FORWARDED_ALLOW_IPS="127.0.0.1",
        **extra,
    )
    seed_demo(env, tmp_path)
    return env


class Browser:
    """One shopper's browser behind a client address (a trusted proxy says which)."""

    def __init__(self, url: str, address: str = "203.0.113.7") -> None:
        self.client = httpx.Client(
            base_url=url, headers={"X-Forwarded-For": address}, follow_redirects=True, timeout=30
        )
        self.page: Any = None

    def token(self) -> str:
        """The page's credential: its form's, or on a page without a form, its links'."""
        found = TOKEN.search(self.page.text) or re.search(r"[?&]d=([^&\"]+)", self.page.text)
        assert found, self.page.text[:300]
        return found.group(1)

    def post(self, path: str, **fields: str) -> Any:
        self.page = self.client.post(path, data={"d": self.token(), "comment_hp": "", **fields})
        return self.page

    def to_save_page(self) -> str:
        """Fill the vehicle and the plan, press "Save and finish later" on the numbers; the
        save page's credential."""
        self.page = self.client.get(WIDGET)
        self.post(f"{WIDGET}/vehicle", action="continue", **VEHICLE)
        plan = {name: NUMBERS[name] for name in ("plan", "credit")}
        self.post(f"{WIDGET}/plan", action="continue", **plan)
        rest = {name: value for name, value in NUMBERS.items() if name not in plan}
        self.post(f"{WIDGET}/numbers", action="save", **rest)
        assert 'action="/embed/demo-motors/payment/save"' in self.page.text
        return self.token()

    def save_for_later(self, email: str) -> Any:
        return self.post(
            f"{WIDGET}/save",
            action="send",
            consent_followup="yes",
            email=email,
            **{"from": "numbers"},
        )

    def close(self) -> None:
        self.client.close()


def rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "limits.db") as db:
        return list(db.execute(sql))


def test_ten_concurrent_saves_for_later_record_one_consent_and_queue_one_email(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    server = start_server(sqlite_env(tmp_path, port), port, "concurrent")
    server.wait_healthy()
    browser = Browser(server.url)
    token = browser.to_save_page()
    data = {
        "d": token,
        "comment_hp": "",
        "action": "send",
        "from": "numbers",
        "email": "pat@example.com",
        "consent_followup": "yes",
    }
    answers: list[int] = []

    def press() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answers.append(client.post(f"{WIDGET}/save", data=data).status_code)

    threads = [threading.Thread(target=press) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    browser.close()
    assert sorted(answers) == [303] * 10
    consents = rows(
        tmp_path,
        "SELECT c.kind FROM consents c JOIN drafts d ON d.id = c.draft_id WHERE NOT d.demo",
    )
    assert consents == [("followup",)]
    links = rows(tmp_path, "SELECT to_addr FROM outbox WHERE kind = 'resume_link'")
    assert links == [("pat@example.com",)]


def test_a_repeat_within_the_hour_is_on_its_way_and_counted_once(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    server = start_server(sqlite_env(tmp_path, port), port, "repeat")
    server.wait_healthy()
    browser = Browser(server.url)
    browser.to_save_page()
    first = browser.save_for_later("pat@example.com")
    assert "Check your inbox" in first.text
    draft = rows(tmp_path, "SELECT id FROM drafts WHERE NOT demo")[0][0]
    for minutes in (5, 20, 50):
        # The shopper presses again later in the hour (the link was sent `minutes` ago).
        with sqlite3.connect(tmp_path / "limits.db") as db:
            db.execute(
                "UPDATE drafts SET link_sent_at = datetime('now', :ago) WHERE id = :d",
                {"ago": f"-{minutes} minutes", "d": draft},
            )
        browser.page = browser.client.get(f"{WIDGET}/save?d={browser.token()}&from=numbers")
        again = browser.save_for_later("pat@example.com")
        assert again.status_code == 200 and "on its way" in unescape(again.text)
    assert len(rows(tmp_path, "SELECT id FROM outbox WHERE kind = 'resume_link'")) == 1
    counted = rows(tmp_path, "SELECT hits FROM limits WHERE key LIKE 'link:%'")
    assert counted == [(1,)]
    browser.close()


def test_nobody_can_use_up_someone_elses_links_and_a_refused_post_keeps_what_was_typed(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    server = start_server(sqlite_env(tmp_path, port), port, "fair")
    server.wait_healthy()
    pages = []
    for _ in range(7):
        attacker = Browser(server.url, "198.51.100.66")
        attacker.to_save_page()
        pages.append(attacker.save_for_later("victim@example.com"))
        attacker.close()
    refused = [p for p in pages if p.status_code == 429]
    assert [p.status_code for p in pages[:5]] == [200] * 5 and len(refused) == 2
    said = unescape(refused[0].text)
    assert "didn't send" in said and "saved" in said
    # The refused posts stored the address typed into them, as every post does (rule 3).
    typed = rows(tmp_path, "SELECT value FROM field_values WHERE name = 'email'")
    assert typed.count(("victim@example.com",)) == 7
    assert len(rows(tmp_path, "SELECT id FROM outbox WHERE kind = 'resume_link'")) == 5
    # The victim's own link, from their own address, still goes.
    victim = Browser(server.url, "203.0.113.44")
    victim.to_save_page()
    own = victim.save_for_later("victim@example.com")
    assert own.status_code == 200 and "Check your inbox" in own.text
    assert len(rows(tmp_path, "SELECT id FROM outbox WHERE kind = 'resume_link'")) == 6
    victim.close()


def test_the_links_from_one_client_address_are_the_operators_to_set(
    tmp_path: Path, start_server: Any
) -> None:
    # A showroom kiosk sends links to many shoppers from one address: RESUME_RATE_LIMIT_LINKS.
    port = free_port()
    server = start_server(sqlite_env(tmp_path, port, RESUME_RATE_LIMIT_LINKS="3"), port, "kiosk")
    server.wait_healthy()
    statuses = []
    for n in range(5):
        kiosk = Browser(server.url, "198.51.100.7")
        kiosk.to_save_page()
        statuses.append(kiosk.save_for_later(f"shopper{n}@example.com").status_code)
        kiosk.close()
    assert statuses == [200, 200, 200, 429, 429]
    assert len(rows(tmp_path, "SELECT id FROM outbox WHERE kind = 'resume_link'")) == 3
    # Another address is not held by the kiosk's limit.
    other = Browser(server.url, "203.0.113.9")
    other.to_save_page()
    assert other.save_for_later("shopper9@example.com").status_code == 200
    other.close()


def test_two_processes_share_the_per_draft_and_per_recipient_limits(
    pg_database: str, tmp_path: Path, start_server: Any
) -> None:
    from conftest import _truncate, make_settings, run

    from resume.demo import seed

    run(_truncate(pg_database))
    run(seed(make_settings(pg_database, tmp_path)))
    store = Store(make_settings(pg_database, tmp_path))
    servers = []
    for name in ("a", "b"):
        port = free_port()
        env = child_env(
            tmp_path,
            RESUME_DATABASE_URL=pg_database,
            RESUME_BASE_URL=f"http://127.0.0.1:{port}",
            RESUME_FORWARDED_ALLOW_IPS="127.0.0.1",
            RESUME_RATE_LIMIT_DRAFT="6",
        )
        servers.append(start_server(env, port, f"pg-{name}"))
    for server in servers:
        server.wait_healthy()
    # One draft, its saves alternating between the two processes: six a minute in all.
    browsers = [Browser(server.url) for server in servers]
    browsers[0].page = browsers[0].client.get(WIDGET)
    token = browsers[0].token()
    answers = []
    for n in range(10):
        page = browsers[n % 2].client.post(
            f"{WIDGET}/vehicle",
            data={"d": token, "comment_hp": "", "action": "continue", **VEHICLE, "model": f"M{n}"},
        )
        answers.append(page.status_code)
        found = TOKEN.search(page.text)
        token = found.group(1) if found else token
    assert answers.count(200) == 6 and answers.count(429) == 4, answers
    # Seven drafts naming one address from one client, alternating: five links in all.
    statuses = []
    for n in range(7):
        shopper = Browser(servers[n % 2].url, "198.51.100.9")
        shopper.to_save_page()
        statuses.append(shopper.save_for_later("shared@example.com").status_code)
        shopper.close()
    assert statuses.count(200) == 5 and statuses.count(429) == 2, statuses
    sent = store.rows(
        "SELECT id FROM outbox WHERE kind = 'resume_link' AND to_addr = 'shared@example.com'"
    )
    assert len(sent) == 5
    for browser in browsers:
        browser.close()
