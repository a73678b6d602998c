"""The outbox worker: leases due messages, sends them outside any transaction, keeps the
outcome; mail goes to a real SMTP server, or to a folder when none is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from conftest import (
    Mailbox,
    Shopper,
    Store,
    deliver,
    free_port,
    run,
    saved_for_later,
)

from resume.db import Database
from resume.queries import outbox as outbox_q
from resume.worker import MAX_ATTEMPTS, Worker, backoff


def test_without_smtp_mail_is_kept_on_disk_and_listed(
    shopper: Shopper, settings: Any, store: Store, client: Any
) -> None:
    saved_for_later(shopper)
    assert deliver(settings) == 1
    files = list(Path(settings.mail_dir).glob("*.eml"))
    assert len(files) == 1
    listing = client.get("/mail")
    assert listing.status_code == 200 and files[0].name in listing.text
    shown = client.get(f"/mail/{files[0].name}")
    assert "/r/" in shown.text and "Demo Motors" in shown.text
    part = client.get(f"/mail/{files[0].name}/html")
    assert "sandbox" in part.headers["content-security-policy"]
    assert client.get("/mail/../../etc/passwd").status_code == 404
    assert client.get("/mail/nothing.eml").status_code == 404
    assert store.one("SELECT status FROM outbox")["status"] == "sent"


def test_an_unreachable_server_is_retried_later_with_the_error_kept(
    shopper: Shopper, settings: Any, store: Store
) -> None:
    saved_for_later(shopper)
    nobody = f"smtp://127.0.0.1:{free_port()}"
    assert deliver(settings, nobody) == 1
    row = store.one("SELECT * FROM outbox")
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] and "Connect" in row["last_error"]
    waited = _when(row["due_at"]) - _when(row["created_at"])
    assert waited > dt.timedelta(seconds=10)
    assert row["leased_until"] is None
    assert deliver(settings, nobody) == 0  # not due yet: no hammering


def test_a_retry_is_delivered_once_the_server_is_back(
    shopper: Shopper, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    saved_for_later(shopper)
    deliver(settings, f"smtp://127.0.0.1:{free_port()}")
    Store(settings).execute("UPDATE outbox SET due_at = :now", now=dt.datetime.now(dt.UTC))
    assert deliver(settings, mailbox.url) == 1
    assert len(mailbox.messages) == 1
    row = store.one("SELECT * FROM outbox")
    assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None


def test_after_the_last_attempt_a_message_is_dead_with_its_error(
    shopper: Shopper, settings: Any, store: Store
) -> None:
    saved_for_later(shopper)
    Store(settings).execute("UPDATE outbox SET attempts = :n", n=MAX_ATTEMPTS - 1)
    deliver(settings, f"smtp://127.0.0.1:{free_port()}")
    row = store.one("SELECT * FROM outbox")
    assert row["status"] == "dead" and row["attempts"] == MAX_ATTEMPTS and row["last_error"]


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    first = [backoff(1).total_seconds() for _ in range(50)]
    assert all(15 <= s <= 30 for s in first) and len(set(first)) > 1
    assert all(backoff(20).total_seconds() <= 3600 for _ in range(20))
    assert backoff(3).total_seconds() >= 60


def test_a_leased_message_is_not_claimed_twice_until_the_lease_ends(
    shopper: Shopper, settings: Any
) -> None:
    saved_for_later(shopper)

    async def claims() -> tuple[int, int, int]:
        db = Database(settings)
        now = dt.datetime.now(dt.UTC)
        try:
            async with db.write() as conn:
                first = await outbox_q.claim(
                    conn, owner="a", now=now, lease=dt.timedelta(minutes=2), limit=10
                )
            async with db.write() as conn:
                second = await outbox_q.claim(
                    conn, owner="b", now=now, lease=dt.timedelta(minutes=2), limit=10
                )
            later = now + dt.timedelta(minutes=3)  # the first worker died: its lease ran out
            async with db.write() as conn:
                third = await outbox_q.claim(
                    conn, owner="c", now=later, lease=dt.timedelta(minutes=2), limit=10
                )
            return len(first), len(second), len(third)
        finally:
            await db.dispose()

    assert run(claims()) == (1, 0, 1)


def test_the_message_id_is_fixed_when_queued(
    shopper: Shopper, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    saved_for_later(shopper)
    queued = store.one("SELECT message_id FROM outbox")["message_id"]
    Store(settings).execute("UPDATE outbox SET due_at = :now", now=dt.datetime.now(dt.UTC))
    deliver(settings, mailbox.url)
    assert mailbox.messages[0]["Message-ID"] == queued


def test_serve_wakes_its_worker_when_mail_is_queued(settings: Any, mailbox: Mailbox) -> None:
    """In `resume serve` the worker runs in the process and sends without waiting a poll."""
    import msgspec
    from litestar.testing import TestClient

    from resume.web.app import create_app

    live = msgspec.structs.replace(settings, smtp_url=mailbox.url, worker_poll_seconds=30.0)
    with TestClient(create_app(live, run_worker=True), base_url="http://127.0.0.1:8000") as c:
        saved_for_later(Shopper(c))
        for _ in range(100):
            if mailbox.messages:
                break
            asyncio.run(asyncio.sleep(0.05))
    assert len(mailbox.messages) == 1


def _when(value: Any) -> dt.datetime:
    """A timestamp from a raw row: SQLite hands back text, PostgreSQL a datetime."""
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def test_a_batch_finishes_within_its_lease_even_when_every_send_times_out() -> None:
    from resume.worker import BATCH

    worker = Worker(None, None, None, None, lease_seconds=120)  # type: ignore[arg-type]
    # Each message may use one share; the loop stops starting new ones 1.5 shares before the
    # end, so the last one started finishes with half a share to spare.
    assert worker.send_budget * (BATCH + 1) <= worker.lease.total_seconds()


def test_a_message_whose_draft_is_gone_is_dead_at_once(
    shopper: Shopper, settings: Any, store: Store
) -> None:
    draft_id = saved_for_later(shopper)
    store.execute("UPDATE outbox SET draft_id = NULL WHERE draft_id = :d", d=draft_id)
    deliver(settings)
    row = store.one("SELECT * FROM outbox")
    assert row["status"] == "dead" and row["attempts"] == 1 and "NotFound" in row["last_error"]


def test_the_mail_page_is_only_for_this_machine(client: Any) -> None:
    assert client.get("/mail").status_code == 200
    assert client.get("http://resume.example.com/mail").status_code == 404


def test_a_dead_message_can_be_retried_from_the_command_line(
    shopper: Shopper, settings: Any, store: Store, mailbox: Mailbox, tmp_path: Any
) -> None:
    from conftest import resume_cli

    saved_for_later(shopper)
    store.execute("UPDATE outbox SET status = 'dead', last_error = 'earlier failure'")

    def resume(*args: str) -> Any:
        return resume_cli(settings, tmp_path, *args)

    listed = resume("outbox", "list", "--status", "dead")
    assert listed.returncode == 0 and "earlier failure" in listed.stdout
    message_id = int(listed.stdout.splitlines()[1].split()[0])  # under the header
    assert resume("outbox", "retry", str(message_id)).returncode == 0
    again = resume("outbox", "retry", str(message_id))
    assert again.returncode == 2 and "is not dead" in again.stderr
    assert deliver(settings, mailbox.url) == 1 and len(mailbox.messages) == 1


def test_a_stopping_worker_gives_back_what_it_did_not_try(
    client: Any, settings: Any, store: Store
) -> None:
    from resume.catalog import Catalog
    from resume.keyring import Keyring
    from resume.mail import Composer, FolderTransport
    from resume.tokens import Signer
    from resume.worker import Worker

    for _ in range(3):
        saved_for_later(Shopper(client), email="pat@example.com")

    async def stopped_pass() -> int:
        db = Database(settings)
        composer = Composer(settings, Signer(settings.secret_keys), Catalog.load())
        ring = Keyring(settings.data_keys)
        stop = asyncio.Event()
        stop.set()  # SIGTERM arrived as the batch was claimed
        try:
            worker = Worker(db, composer, FolderTransport(settings.mail_dir), ring)
            return await worker.run_once(stop=stop)
        finally:
            await db.dispose()

    assert run(stopped_pass()) == 0
    rows = store.rows("SELECT status, attempts, leased_until FROM outbox")
    assert len(rows) == 3
    assert all(
        r["status"] == "pending" and r["attempts"] == 0 and r["leased_until"] is None for r in rows
    )
