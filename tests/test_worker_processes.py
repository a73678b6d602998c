"""Several `resume worker` processes on one PostgreSQL database: every message exactly once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Mailbox, Shopper, Store, child_env, make_settings, run
from litestar.testing import TestClient

from resume.db import Database
from resume.demo import seed
from resume.tables import outbox
from resume.web.app import create_app

MESSAGES = 2000
WORKERS = 4


@pytest.fixture
def pg_settings(pg_database: str, tmp_path: Path) -> Any:
    """The run's PostgreSQL database, emptied and seeded: the workers' shared queue."""
    from conftest import _truncate

    run(_truncate(pg_database))
    settings = make_settings(pg_database, tmp_path)
    run(seed(settings))
    return settings


def _queue(settings: Any, draft_id: str, count: int) -> None:
    async def insert() -> None:
        db = Database(settings)
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "dealer_id": 1,
                "draft_id": draft_id,
                "kind": "resume_link",
                "context": {},
                "to_addr": f"shopper{n}@example.com",
                "message_id": f"<bulk-{n}@test>",
                "dedupe_key": f"bulk:{n}",
                "due_at": now,
                "created_at": now,
            }
            for n in range(count)
        ]
        try:
            async with db.write() as conn:
                await conn.execute(outbox.insert(), rows)
        finally:
            await db.dispose()

    run(insert())


@pytest.mark.slow
def test_four_workers_send_two_thousand_messages_exactly_once(
    pg_settings: Any, mailbox: Mailbox, tmp_path: Path
) -> None:
    with TestClient(create_app(pg_settings), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill(
            "vehicle",
            **{
                "condition": "new",
                "year": "2024",
                "make": "Kia",
                "model": "EV6",
                "trim": "",
                "stock_number": "",
                "price": "45000",
            },
        )
        draft_id = shopper.draft_id
    _queue(pg_settings, draft_id, MESSAGES)
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=pg_settings.database_url,
        RESUME_SMTP_URL=mailbox.url,
        RESUME_WORKER_POLL_SECONDS="0.2",
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "resume", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(WORKERS)
    ]
    store = Store(pg_settings)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            left = store.one("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")["n"]
            if left == 0:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"{left} messages still pending after 240 s")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    ids = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(ids) == MESSAGES and len(set(ids)) == MESSAGES
    owners = store.rows("SELECT lease_owner, count(*) AS n FROM outbox GROUP BY lease_owner")
    assert len(owners) == WORKERS  # every worker took part
    assert store.one("SELECT count(*) AS n FROM outbox WHERE status = 'sent'")["n"] == MESSAGES
    assert all(w.returncode == 0 for w in workers)  # SIGTERM is a clean stop
