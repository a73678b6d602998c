"""Faults on one PostgreSQL database: a worker killed mid-batch, an SMTP server that is down or
never answers, and two `resume serve` processes sharing the drafts and the outbox.

Every process here is the real command in a child process, so the module is marked slow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest
import test_worker_processes
from conftest import (
    NUMBERS,
    SECRET_KEYS,
    TOKEN,
    VEHICLE,
    Mailbox,
    Shopper,
    Store,
    child_env,
    free_port,
    links_in,
    run,
    save_for_later,
    wait_for_serve,
)
from litestar.testing import TestClient
from test_worker_processes import _queue

from resume.catalog import Catalog
from resume.db import Database
from resume.keyring import Keyring
from resume.mail import Composer, transport_for
from resume.tokens import Signer
from resume.web.app import create_app
from resume.worker import BATCH, Worker

pytestmark = pytest.mark.slow

# The emptied, seeded PostgreSQL database of the four-worker test, shared as a fixture.
pg_settings = test_worker_processes.pg_settings

LEASE = 6  # seconds: the shortest lease allowed, so a dead worker's claims come back soon
WIDGET = "/embed/demo-motors/payment"


class Child:
    """One `resume` child process, its output kept in a file for the failure messages."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str, *args: str) -> None:
        self.name = name
        self.log = tmp_path / f"{name}.log"
        with self.log.open("wb") as out:
            # The interpreter itself, no shell in between: SIGKILL must hit the process.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "resume", *args],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it: the message in flight is finished first."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is released or flushed."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def output(self) -> str:
        return f"--- {self.name} ---\n" + self.text()[-3000:]


class Server(Child):
    """A `resume serve` child on its own port."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str, *args: str) -> None:
        super().__init__(tmp_path, env, name, "serve", *args)
        port = args[args.index("--port") + 1]
        self.url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        wait_for_serve(self.process, self.url, self.output, timeout)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    """The child processes a test starts; any still running at the end is killed."""
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()


def start_workers(
    children: list[Child], tmp_path: Path, env: dict[str, str], *names: str
) -> list[Child]:
    """Start `resume worker` children, one per name, killed at the end of the test."""
    started = [Child(tmp_path, env, name, "worker") for name in names]
    children.extend(started)
    return started


def worker_env(tmp_path: Path, settings: Any, smtp_url: str) -> dict[str, str]:
    """The environment of the workers: the test's database and mailbox, the shortest lease,
    and their log lines (one per message) kept for the failure messages."""
    return child_env(
        tmp_path,
        RESUME_DATABASE_URL=settings.database_url,
        RESUME_SMTP_URL=smtp_url,
        RESUME_WORKER_POLL_SECONDS="0.2",
        RESUME_WORKER_LEASE_SECONDS=str(LEASE),
        RESUME_LOG_LEVEL="INFO",
    )


def wait_until(check: Callable[[], Any], seconds: float, failure: Callable[[], str]) -> Any:
    """Poll `check` until it is truthy; fail with `failure()` (the state seen) after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"after {seconds} s: {failure()}", pytrace=False)


def statuses(store: Store) -> dict[str, int]:
    """Count the outbox rows by status: {"sent": 60} once everything went."""
    rows = store.rows("SELECT status, count(*) AS n FROM outbox GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


def a_draft(settings: Any) -> str:
    """A draft with a vehicle, for queued messages to be built from."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        return shopper.draft_id


class SlowMailbox(Mailbox):
    """An SMTP server that keeps each message, then takes a while to say so: a worker is
    always in the middle of a batch, and often between "server has it" and "250 seen"."""

    DELAY = 0.075

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.DELAY)
        return reply


@pytest.fixture
def slow_mailbox() -> Iterator[SlowMailbox]:
    """A real SMTP server that answers each DATA ~75 ms late, stopped after the test."""
    box = SlowMailbox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


def test_a_worker_killed_mid_batch_leaves_its_claims_to_the_lease(
    pg_settings: Any, slow_mailbox: SlowMailbox, tmp_path: Path, children: list[Child]
) -> None:
    count = 150
    _queue(pg_settings, a_draft(pg_settings), count)
    store = Store(pg_settings)
    env = worker_env(tmp_path, pg_settings, slow_mailbox.url)
    [first] = start_workers(children, tmp_path, env, "worker-a")

    # Batches of 5 from one worker: with 1 to 3 of a batch at the server, the rest of it is
    # still claimed by A, and one message may be at the server without its 250 seen.
    def mid_batch() -> bool:
        arrived = len(slow_mailbox.messages)
        return arrived >= 20 and arrived % BATCH in (1, 2, 3)

    deadline = time.monotonic() + 60
    while not mid_batch():
        assert first.process.poll() is None, first.output()
        assert time.monotonic() < deadline, f"{len(slow_mailbox.messages)} arrived in 60 s"
        time.sleep(0.005)
    first.kill()
    owner = f"%:{first.pid}:%"
    held = store.rows(
        "SELECT id, message_id, leased_until FROM outbox "
        "WHERE status = 'pending' AND lease_owner LIKE :owner",
        owner=owner,
    )
    assert held, "worker A held no claim when it was killed: not mid-batch"
    assert all(row["leased_until"] is not None for row in held), held

    others = start_workers(children, tmp_path, env, "worker-b", "worker-c")
    wait_until(
        lambda: statuses(store) == {"sent": count},
        90,
        lambda: f"outbox {statuses(store)}\n" + "\n".join(w.output() for w in others),
    )
    assert [worker.stop() for worker in others] == [0, 0]

    arrived = Counter(str(message["Message-ID"]) for message in slow_mailbox.messages)
    assert set(arrived) == {f"<bulk-{n}@test>" for n in range(count)}  # every one, at least once
    # Only the message A had at the server when it died can arrive twice: A never saw the 250,
    # so its row stayed pending. The rest of A's batch was claimed but never transmitted; a
    # claim is only a lease, so sending those after it runs out is their first delivery.
    twice = {message_id for message_id, n in arrived.items() if n > 1}
    assert sum(arrived.values()) - count <= 1, arrived.most_common(3)
    assert twice <= {row["message_id"] for row in held}, (twice, held)
    # Nobody took A's claims while its lease ran: each was sent by another worker, after it.
    after = {
        row["id"]: row
        for row in store.rows(
            "SELECT id, status, lease_owner, sent_at FROM outbox WHERE id = ANY(:ids)",
            ids=[row["id"] for row in held],
        )
    }
    for row in held:
        sent = after[row["id"]]
        assert sent["status"] == "sent" and f":{first.pid}:" not in sent["lease_owner"], sent
        assert sent["sent_at"] > row["leased_until"], (sent, row["leased_until"])
    owners = store.rows("SELECT DISTINCT lease_owner FROM outbox WHERE status = 'sent'")
    assert len(owners) >= 2, owners  # A's sends before the kill, then B's and C's
    print(
        f"A was killed with {len(held)} claims held; {len(twice)} message arrived twice; "
        f"{len(owners)} workers sent"
    )


def test_workers_wait_out_an_smtp_outage_and_send_each_message_once(
    pg_settings: Any, tmp_path: Path, children: list[Child]
) -> None:
    count = 60
    _queue(pg_settings, a_draft(pg_settings), count)
    store = Store(pg_settings)
    box = Mailbox()  # its port is chosen, nothing listens there yet
    workers = start_workers(
        children, tmp_path, worker_env(tmp_path, pg_settings, box.url), "w1", "w2", "w3"
    )

    failed = "SELECT count(*) AS n FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL"
    wait_until(
        lambda: store.one(failed)["n"] == count,
        60,
        lambda: (
            f"{store.one(failed)['n']} of {count} failed\n" + "\n".join(w.output() for w in workers)
        ),
    )
    rows = store.rows("SELECT status, last_error, due_at, leased_until FROM outbox")
    assert {row["status"] for row in rows} == {"pending"}  # a refused connection is temporary
    assert all("Connect" in row["last_error"] for row in rows), rows[0]
    assert all(row["leased_until"] is None for row in rows)

    box.controller.start()
    try:
        # The first retry waits 15 to 30 s (worker.backoff); then each message goes once.
        wait_until(
            lambda: statuses(store) == {"sent": count},
            90,
            lambda: f"outbox {statuses(store)}\n" + "\n".join(w.output() for w in workers),
        )
        assert [worker.stop() for worker in workers] == [0, 0, 0]
    finally:
        box.controller.stop()
    arrived = Counter(str(message["Message-ID"]) for message in box.messages)
    assert arrived == Counter({f"<bulk-{n}@test>": 1 for n in range(count)})
    rows = store.rows("SELECT attempts, last_error FROM outbox")
    # One refused attempt, then the send: nobody hammered the server while it was down.
    assert {row["attempts"] for row in rows} == {2}
    assert all(row["last_error"] is None for row in rows)


def test_a_stalled_server_costs_a_batch_no_more_than_its_lease(pg_settings: Any) -> None:
    _queue(pg_settings, a_draft(pg_settings), BATCH)

    async def claim_and_send() -> tuple[int, float]:
        async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # accepts, never greets, never answers
            writer.close()

        server = await asyncio.start_server(stall, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = msgspec.structs.replace(pg_settings, smtp_url=f"smtp://127.0.0.1:{port}")
        db = Database(settings)
        composer = Composer(settings, Signer(settings.secret_keys), Catalog.load())
        ring = Keyring(settings.data_keys)
        worker = Worker(db, composer, transport_for(settings), ring, lease_seconds=LEASE)
        try:
            started = time.monotonic()
            handled = await worker.run_once()
            return handled, time.monotonic() - started
        finally:
            await worker.transport.close()
            await db.dispose()
            server.close()

    handled, took = run(claim_and_send())
    print(f"run_once handled {handled} of {BATCH} in {took:.2f} s")
    # A correctness bound, not a benchmark: past the lease another worker may claim the batch.
    assert took < LEASE, f"run_once took {took:.1f} s with a {LEASE} s lease"
    rows = Store(pg_settings).rows("SELECT * FROM outbox ORDER BY id")
    now = dt.datetime.now(dt.UTC)
    tried = [row for row in rows if row["last_error"] is not None]
    released = [row for row in rows if row["last_error"] is None]
    assert len(tried) == handled >= 1, rows
    assert all(row["status"] == "pending" for row in rows), rows
    assert all(row["leased_until"] is None for row in rows), rows
    for row in tried:  # timed out, kept, and due again after the backoff
        assert "TimeoutError" in row["last_error"] and row["due_at"] > now, row
        assert row["attempts"] == 1, row
    for row in released:  # given back untried, as if never claimed
        assert row["attempts"] == 0 and row["lease_owner"] is None, row


class Alternating:
    """An HTTP client that sends each request to the next process in turn, like a load
    balancer without sticky sessions: a save on one, the page after it on the other."""

    def __init__(self, *urls: str) -> None:
        self.clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
        self.turn = 0
        self.last = 0  # which process answered the latest request
        self.seen: set[tuple[str, int]] = set()  # (method, process) pairs

    def _next(self, method: str) -> httpx.Client:
        self.last = self.turn % len(self.clients)
        self.turn += 1
        self.seen.add((method, self.last))
        return self.clients[self.last]

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._next("GET").get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._next("POST").post(url, **kwargs)

    def close(self) -> None:
        for client in self.clients:
            client.close()


@dataclass
class Tally:
    """What one concurrent shopper saw."""

    draft_id: str = ""
    acknowledged: int = 0  # saves answered with a 303
    unexpected: list[str] = field(default_factory=list)


SAVES = 8


def shop(urls: tuple[str, str], first: int, tally: Tally) -> None:
    """Save the vehicle step SAVES times, the next model each time: each save on the
    process the page did not come from, then the step read back from the first one."""
    signer = Signer(SECRET_KEYS)
    clients = [httpx.Client(base_url=url, timeout=30) for url in urls]
    try:
        side = first
        page = clients[side].get(WIDGET)
        for n in range(1, SAVES + 1):
            side = 1 - side
            found = TOKEN.search(page.text) if page.status_code == 200 else None
            if not found:
                tally.unexpected.append(f"page {page.status_code}: {page.text[:300]}")
                return
            data = {**VEHICLE, "d": found.group(1), "comment_hp": "", "action": "continue"}
            response = clients[side].post(f"{WIDGET}/vehicle", data={**data, "model": f"M{n}"})
            if response.status_code != 303:
                tally.unexpected.append(f"POST {response.status_code}: {response.text[:300]}")
                return
            tally.acknowledged += 1
            token = parse_qs(urlsplit(response.headers["location"]).query)["d"][0]
            tally.draft_id = signer.verify_form(token, max_age=3600)[0].draft_id
            # The other process, whose copy of this draft (if any) is now a revision behind.
            side = 1 - side
            page = clients[side].get(f"{WIDGET}/vehicle", params={"d": token})
            if f'name="model" value="M{n}"' not in page.text:
                tally.unexpected.append(f"save M{n} not shown by the other process")
                return
    except httpx.HTTPError as exc:
        tally.unexpected.append(repr(exc))
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("in_process_workers", [False, True], ids=["no-worker", "with-workers"])
def test_two_serve_processes_share_drafts_and_send_each_email_once(
    pg_settings: Any,
    mailbox: Mailbox,
    tmp_path: Path,
    children: list[Child],
    in_process_workers: bool,
) -> None:
    env = worker_env(tmp_path, pg_settings, mailbox.url)
    env["RESUME_LOG_LEVEL"] = "WARNING"
    extra = () if in_process_workers else ("--no-worker",)
    ports = [str(free_port()), str(free_port())]
    servers = [
        Server(tmp_path, env, f"serve-{name}", "--port", port, *extra)
        for name, port in zip("ab", ports, strict=True)
    ]
    children.extend(servers)
    [worker] = start_workers(children, tmp_path, env, "worker")
    for server in servers:
        server.wait_healthy()
    store = Store(pg_settings)

    # One shopper, every request on the other process from the one before.
    browser = Alternating(*(server.url for server in servers))
    try:
        shopper = Shopper(browser)  # type: ignore[arg-type]
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)  # GET on A, POST on B, its page on A
        browser.turn += 1  # from here the other way round: saves on A, pages from B
        shopper.fill("numbers", **{**NUMBERS, "term": "6o"})
        draft_id = shopper.draft_id
        page = save_for_later(shopper, email="pat@example.com")
        assert "Check your inbox" in page.text, page.text[:500]
        saved_on = 1 - browser.last  # the POST went to the process before the page's
    finally:
        browser.close()
    assert browser.seen == {("GET", 0), ("GET", 1), ("POST", 0), ("POST", 1)}

    queued = store.one("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)
    wait_until(
        lambda: (
            store.one("SELECT status FROM outbox WHERE id = :i", i=queued["id"])["status"] == "sent"
        ),
        30,
        lambda: "\n".join(child.output() for child in children),
    )
    [message] = [m for m in mailbox.messages if m["To"] == "pat@example.com"]
    assert message["Message-ID"] == queued["message_id"]
    [link] = links_in(message)
    with httpx.Client(base_url=servers[1 - saved_on].url, timeout=30) as other:
        elsewhere = Shopper(other)  # type: ignore[arg-type]
        page = elsewhere.open(link)
        assert page.status_code == 200 and "Welcome back" in page.text, page.text[:500]
        assert "Your numbers" in page.text  # the step the shopper left on
        # The term posted as "6o" is none of the choices: it comes back as its message.
        assert elsewhere.value("down_payment") == "3000" and 'id="e-term"' in page.text

    # Ten shoppers at once, each saving on one process and reading back on the other.
    tallies = [Tally() for _ in range(10)]
    urls = (servers[0].url, servers[1].url)
    threads = [
        threading.Thread(target=shop, args=(urls, n % 2, tally), daemon=True)
        for n, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a shopper hung"
    assert not [t.unexpected for t in tallies if t.unexpected], [t.unexpected for t in tallies]

    # uvicorn shuts down gracefully on SIGTERM, then raises it again: its status is -SIGTERM.
    assert {server.stop() for server in servers} <= {0, -signal.SIGTERM}, servers[0].output()
    assert worker.stop() == 0, worker.output()
    # Every worker is stopped: nothing more can arrive, so "once" is final.
    assert [m["Message-ID"] for m in mailbox.messages].count(queued["message_id"]) == 1

    drafts = {
        row["id"]: row
        for row in store.rows(
            "SELECT d.id, d.revision, v.value AS model FROM drafts d "
            "JOIN field_values v ON v.draft_id = d.id AND v.name = 'model' "
            "WHERE d.id = ANY(:ids)",
            ids=[t.draft_id for t in tallies],
        )
    }
    assert (
        sum(row["revision"] for row in drafts.values())
        == sum(t.acknowledged for t in tallies)
        == len(tallies) * SAVES
    )
    assert len(drafts) == len(tallies)
    assert {row["model"] for row in drafts.values()} == {f"M{SAVES}"}
    # Two processes' group commits must not deadlock each other. The acknowledged saves
    # survive one (the batch is retried a save at a time), but each costs the batch a
    # failed round trip and an ERROR with a traceback in the log.
    deadlocks = [
        f"{server.name}: {line}"
        for server in servers
        for line in server.text().splitlines()
        if line.startswith(("ERROR", "Process ")) or "deadlock detected" in line[:60]
    ]
    assert not deadlocks, "\n".join(deadlocks[:12])
