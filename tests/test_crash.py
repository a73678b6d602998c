"""The crash test of issue #2: a load of saves against `resume serve`, the process killed with
SIGKILL mid-load, restarted: every save the client saw acknowledged is in the database.

It runs the real command in a child process, so it is marked slow.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import TOKEN, Server, child_env, free_port, seed_demo

from resume.tokens import Signer

pytestmark = pytest.mark.slow

SECRET = "crash-test-signing-key-0123456789abcdef"
WIDGET = "/embed/demo-motors/payment"
SHOPPERS = 24
# Enough load to be a real test of group commit, and enough time for it to be mid-flight.
MIN_ACKNOWLEDGED = 300
MIN_LOAD_SECONDS = 1.5
MAX_LOAD_SECONDS = 60.0


def crash_env(tmp_path: Path, port: int) -> dict[str, str]:
    """Return the environment of the `resume` child processes: their own database and keys."""
    return child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}",
        RESUME_SECRET_KEYS=SECRET,
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
    )


@dataclass
class Tally:
    """What one shopper's browser saw: the draft, and the last save it saw acknowledged."""

    draft_id: str = ""
    acknowledged: int = 0  # the counter of the last save answered with a 303
    attempted: int = 0  # the counter of the last save sent
    last_location: str = ""
    last_token: str = ""
    request_started: float = 0.0  # when the latest request, GET or POST, was sent
    error: str = ""
    unexpected: list[str] = field(default_factory=list)


def vehicle(counter: int, token: str) -> dict[str, str]:
    return {
        "d": token,
        "comment_hp": "",
        "action": "continue",
        "condition": "new",
        "year": "2024",
        "make": "Toyota",
        "model": f"M{counter}",
        "price": "32000",
    }


def shop(base_url: str, tally: Tally, signer: Signer) -> None:
    """Save the vehicle step again and again, each with the next model number, until the
    server stops answering."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        try:
            tally.request_started = time.monotonic()
            page = client.get(WIDGET)
            while True:
                found = TOKEN.search(page.text) if page.status_code == 200 else None
                if not found:
                    tally.unexpected.append(f"GET {page.status_code}: {page.text[:300]}")
                    return
                tally.attempted += 1
                tally.request_started = time.monotonic()
                response = client.post(
                    f"{WIDGET}/vehicle", data=vehicle(tally.attempted, found.group(1))
                )
                if response.status_code != 303:
                    tally.unexpected.append(f"POST {response.status_code}: {response.text[:300]}")
                    return
                location = response.headers["location"]
                token = parse_qs(urlsplit(location).query)["d"][0]
                credential, _ = signer.verify_form(token, max_age=3600)
                tally.draft_id = credential.draft_id
                tally.acknowledged = tally.attempted
                tally.last_location, tally.last_token = location, token
                tally.request_started = time.monotonic()
                page = client.get(location)
        except httpx.TransportError as exc:
            tally.error = repr(exc)


def stored_models(database: Path) -> dict[str, tuple[int, str | None]]:
    """Return each draft's revision and stored model, read straight from the SQLite file."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT d.id, d.revision, v.value FROM drafts d "
            "LEFT JOIN field_values v ON v.draft_id = d.id AND v.name = 'model'"
        ).fetchall()
    return {draft_id: (revision, model) for draft_id, revision, model in rows}


def test_every_acknowledged_save_survives_a_sigkill_mid_load(
    tmp_path: Path, start_server: Callable[[dict[str, str], int, str], Server]
) -> None:
    port = free_port()
    env = crash_env(tmp_path, port)
    seed_demo(env, tmp_path)

    server = start_server(env, port, "first")
    server.wait_healthy()

    # Many shoppers at once, each saving its own draft as fast as the server answers.
    signer = Signer((SECRET,))
    tallies = [Tally() for _ in range(SHOPPERS)]
    threads = [
        threading.Thread(target=shop, args=(server.url, tally, signer), daemon=True)
        for tally in tallies
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < MAX_LOAD_SECONDS:
        time.sleep(0.05)
        acknowledged = sum(t.acknowledged for t in tallies)
        if time.monotonic() - started >= MIN_LOAD_SECONDS and acknowledged >= MIN_ACKNOWLEDGED:
            break
        if any(t.unexpected or t.error for t in tallies):
            break
    assert not [t.unexpected for t in tallies if t.unexpected], server.output()
    early = [t.error for t in tallies if t.error]
    assert not early, f"shoppers failed before the kill: {early}\n{server.output()}"

    # The crash: no shutdown hooks, no flush, nothing.
    killed_at = time.monotonic()
    server.kill()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a shopper hung after the kill"

    acknowledged = sum(t.acknowledged for t in tallies)
    assert acknowledged >= MIN_ACKNOWLEDGED, f"only {acknowledged} saves ran: not a load test"
    assert all(t.error for t in tallies), [t.unexpected for t in tallies]
    # Mid-load: shoppers had requests on the wire when the process died.
    in_flight = [t for t in tallies if t.request_started < killed_at]
    assert in_flight, "the kill came between requests, not during them"
    saving = [t for t in in_flight if t.attempted > t.acknowledged]

    restarted = start_server(env, port, "restarted")
    restarted.wait_healthy()

    stored = stored_models(tmp_path / "crash.db")
    lost = []
    for tally in tallies:
        if not tally.acknowledged:
            continue
        assert tally.draft_id in stored, f"draft {tally.draft_id} is gone"
        revision, model = stored[tally.draft_id]
        assert model is not None and model.startswith("M"), (tally.draft_id, model)
        counter = int(model[1:])
        # A save committed but not yet answered when the kill came may be ahead; never behind.
        if not tally.acknowledged <= counter <= tally.attempted:
            lost.append((tally.draft_id, tally.acknowledged, tally.attempted, model))
        # One save per POST, so the draft row's revision is a second witness.
        if not tally.acknowledged <= revision <= tally.attempted:
            lost.append((tally.draft_id, tally.acknowledged, tally.attempted, revision))
    ahead = sum(1 for t in tallies if t.acknowledged and stored[t.draft_id][0] > t.acknowledged)
    print(
        f"{acknowledged} saves acknowledged in {killed_at - started:.1f} s by {SHOPPERS} "
        f"shoppers; {len(in_flight)} had a request in flight at the kill, {len(saving)} of them "
        f"a save; {ahead} of those saves were committed unanswered"
    )
    assert not lost, f"acknowledged saves lost (draft, acked, attempted, stored): {lost}"

    # The restarted server shows the shopper what was saved, from the page they were on.
    shopper = next(
        t for t in tallies if t.acknowledged and stored[t.draft_id][1] == f"M{t.acknowledged}"
    )
    with httpx.Client(base_url=restarted.url, timeout=10) as client:
        page = client.get(shopper.last_location)
        assert page.status_code == 200, page.text
        page = client.get(f"{WIDGET}/vehicle", params={"d": shopper.last_token})
        assert page.status_code == 200, page.text
        assert f'name="model" value="M{shopper.acknowledged}"' in page.text
