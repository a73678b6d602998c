"""Trusted proxies (issue #12, item 2): without RESUME_FORWARDED_ALLOW_IPS no forwarded header
is believed, so a client can't pick the address its rate limit and consent record see; with
it, the proxy's X-Forwarded-For names the shopper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TOKEN, VEHICLE, child_env, free_port, seed_demo

pytestmark = pytest.mark.slow


def env_for(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'proxies.db'}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_RATE_LIMIT_IP="5",
        **extra,
    )
    seed_demo(env, tmp_path)
    return env


def shop_from(url: str, address: str) -> tuple[int, str]:
    """One shopper behind `address` (as a proxy would say): the first page, then the vehicle
    step saved for later with an email and the follow-up box; the last status and draft."""
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, headers=headers, follow_redirects=True) as client:
        page = client.get("/embed/demo-motors/payment")
        found = TOKEN.search(page.text)
        if found is None:
            return page.status_code, ""
        saved = client.post(
            "/embed/demo-motors/payment/vehicle",
            data={"d": found.group(1), "comment_hp": "", "action": "continue", **VEHICLE},
        )
        return saved.status_code, found.group(1)


def consent_ips(tmp_path: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(tmp_path / "proxies.db") as db:
        query = (
            "SELECT c.ip FROM consents c JOIN drafts d ON d.id = c.draft_id "
            "WHERE NOT d.demo ORDER BY c.id"  # `resume demo` seeded shoppers of its own
        )
        return [row[0] for row in db.execute(query)]


def consent_from(url: str, address: str) -> int:
    with httpx.Client(
        base_url=url, headers={"X-Forwarded-For": address}, follow_redirects=True
    ) as client:
        page = client.get("/embed/demo-motors/trade-in")
        found = TOKEN.search(page.text)
        assert found, page.text[:300]
        saved = client.post(
            "/embed/demo-motors/trade-in/vehicle",
            data={"d": found.group(1), "comment_hp": "", "action": "save",
                  "vin": "", "year": "2019", "make": "Honda", "model": "CR-V", "trim": ""},
        )  # fmt: skip
        later = TOKEN.search(saved.text)
        assert later, saved.text[:300]
        sent = client.post(
            "/embed/demo-motors/trade-in/save",
            data={"d": later.group(1), "comment_hp": "", "action": "send", "from": "vehicle",
                  "email": "pat@example.com", "consent_followup": "yes"},
        )  # fmt: skip
        return sent.status_code


def test_without_the_setting_a_forwarded_address_is_not_believed(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    server = start_server(env_for(tmp_path, port), port, "direct")
    server.wait_healthy()
    # Spoofed addresses, each different: every one is 127.0.0.1 to the limit (5 a minute).
    statuses = [shop_from(server.url, f"198.51.100.{n}")[0] for n in range(1, 9)]
    assert statuses.count(429) >= 2, statuses
    assert statuses[:2] == [200, 200]


def test_a_trusted_proxy_names_the_shopper(tmp_path: Path, start_server: Any) -> None:
    port = free_port()
    env = env_for(tmp_path, port, RESUME_FORWARDED_ALLOW_IPS="127.0.0.1")
    server = start_server(env, port, "proxied")
    server.wait_healthy()
    statuses = [shop_from(server.url, f"198.51.100.{n}")[0] for n in range(1, 9)]
    assert statuses == [200] * 8  # eight shoppers, each under their own limit
    assert consent_from(server.url, "203.0.113.9") == 200
    assert consent_ips(tmp_path) == ["203.0.113.9"]


def test_the_consent_records_the_connection_without_a_trusted_proxy(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    server = start_server(env_for(tmp_path, port), port, "direct")
    server.wait_healthy()
    assert consent_from(server.url, "203.0.113.9") == 200
    assert consent_ips(tmp_path) == ["127.0.0.1"]
