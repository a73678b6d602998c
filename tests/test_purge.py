"""Retention: `resume purge` deletes drafts past the dealer's period with everything about
them, stops their queued mail, reports what went, and leaves the rest alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from conftest import VEHICLE, Shopper, Store, deliver, resume_cli, run, saved_for_later
from litestar.testing import TestClient

from resume.db import Database
from resume.retention import purge_database


def _age(store: Store, draft_id: str, days: int) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    store.execute("UPDATE drafts SET updated_at = :w WHERE id = :d", w=when, d=draft_id)


def test_purge_removes_old_drafts_and_everything_about_them(
    client: TestClient[Any], store: Store, settings: Any, tmp_path: Path
) -> None:
    old_id = saved_for_later(Shopper(client), "old@example.com", consent=True)
    recent = Shopper(client)
    recent.start()
    recent.fill("vehicle", **VEHICLE)
    _age(store, old_id, 400)  # the default retention is 365 days
    queued = store.one("SELECT status FROM outbox WHERE draft_id = :d", d=old_id)
    assert queued["status"] == "pending"

    dry = resume_cli(settings, tmp_path, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "demo-motors: would remove" in dry.stdout and "1 drafts" in dry.stdout
    assert store.rows("SELECT id FROM drafts WHERE id = :d", d=old_id)

    done = resume_cli(settings, tmp_path, "purge")
    assert done.returncode == 0, done.stderr
    assert "demo-motors: removed" in done.stdout and "1 drafts" in done.stdout
    assert "1 queued emails stopped" in done.stdout
    assert "1 emails to the shopper deleted" in done.stdout
    for table in (
        "drafts WHERE id",
        "field_values WHERE draft_id",
        "events WHERE draft_id",
        "consents WHERE draft_id",
    ):
        assert store.rows(f"SELECT * FROM {table} = :d", d=old_id) == []
    # The resume-link email held the shopper's address: it is gone with the draft.
    assert store.rows("SELECT * FROM outbox WHERE to_addr = 'old@example.com'") == []
    # The shopper's lead (name, email, phone) went with its last draft.
    assert store.rows("SELECT * FROM leads WHERE email = 'old@example.com'") == []
    assert "1 leads" in done.stdout
    # The recent draft is untouched.
    assert store.rows("SELECT id FROM drafts WHERE id = :d", d=recent.draft_id)
    again = resume_cli(settings, tmp_path, "purge")
    assert "removed nothing" in again.stdout


def test_purge_pages_through_many_drafts(
    client: TestClient[Any], store: Store, settings: Any
) -> None:
    ids = []
    for _ in range(3):
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        ids.append(shopper.draft_id)
        _age(store, shopper.draft_id, 500)

    async def purge() -> Any:
        db = Database(settings)
        try:
            import resume.queries.purge as purge_q

            purge_q.PAGE, page = 2, purge_q.PAGE  # two pages of two and one
            try:
                return await purge_database(db)
            finally:
                purge_q.PAGE = page
        finally:
            await db.dispose()

    reports = run(purge())
    assert reports[0].counts["drafts"] == 3
    assert store.rows("SELECT id FROM drafts") == []


def test_purge_refuses_an_unknown_dealer(settings: Any, tmp_path: Path) -> None:
    done = resume_cli(settings, tmp_path, "purge", "--dealer", "nobody")
    assert done.returncode == 2 and "no dealership 'nobody'" in done.stderr


def test_the_worker_purges_on_its_own(
    client: TestClient[Any], store: Store, settings: Any, caplog: Any
) -> None:
    caplog.set_level("INFO", logger="resume.retention")
    old_id = saved_for_later(Shopper(client), "old@example.com", consent=True)
    _age(store, old_id, 400)
    deliver(settings)
    assert store.rows("SELECT id FROM drafts WHERE id = :d", d=old_id) == []
    # Its queued resume link was stopped, then deleted with the shopper's address.
    assert store.rows("SELECT * FROM outbox") == []
    assert "queued emails stopped" in caplog.text


def test_purge_deletes_the_kept_files_of_the_shopper_mail_it_deletes(
    client: TestClient[Any], store: Store, settings: Any, tmp_path: Path
) -> None:
    old_id = saved_for_later(Shopper(client), "old@example.com")
    new_id = saved_for_later(Shopper(client), "new@example.com")
    deliver(settings)  # no SMTP server: both resume links kept on disk
    folder = Path(settings.mail_dir)
    files = {
        r["draft_id"]: r["reply"].removeprefix("250 kept in ")
        for r in store.rows("SELECT draft_id, reply FROM outbox WHERE kind = 'resume_link'")
    }
    assert all((folder / name).is_file() for name in files.values())
    # A file that is not ours, beside them, is left alone.
    (folder / "notes.txt").write_text("keep me")
    _age(store, old_id, 400)
    done = resume_cli(settings, tmp_path, "purge")
    assert done.returncode == 0, done.stderr
    assert "1 kept mail files deleted" in done.stdout
    assert not (folder / files[old_id]).exists()
    assert (folder / files[new_id]).is_file() and (folder / "notes.txt").is_file()
    # Gone from /mail too: it lists the folder.
    assert files[old_id] not in client.get("/mail").text
