"""Backups of the embedded database (issue #12, item 8): `resume backup` copies a live SQLite
file while `resume serve` keeps saving, `resume restore` checks a copy and says how to bring
it back, and both refuse plainly what they cannot do, creating nothing.

The load test runs real `resume serve` processes, so it is marked slow.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import (
    TOKEN,
    Server,
    child_env,
    free_port,
    make_settings,
    resume_cli,
    run,
    seed_demo,
)

from resume.demo import seed
from resume.migrations import migrate
from resume.tokens import Signer

SECRET = "backup-test-signing-key-0123456789abcdef"
WIDGET = "/embed/demo-motors/payment"
SHOPPERS = 16
# Saves acknowledged before the backup starts: enough for the load to be a load.
MIN_BEFORE = 200
# Page views added to the demo drafts so the copy takes many steps, with saves between them.
PADDING_EVENTS = 150_000
MAX_LOAD_SECONDS = 60.0
PROGRESS = re.compile(r"^copied ([\d,]+) of ([\d,]+) pages$")


@dataclass
class Tally:
    """What one shopper's browser saw: its draft and the last save acknowledged with a 303."""

    draft_id: str = ""
    acknowledged: int = 0
    attempted: int = 0
    location: str = ""
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


def shop(base_url: str, tally: Tally, signer: Signer, stop: threading.Event) -> None:
    """Save the vehicle step again and again, the model numbered by the save, until `stop`."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        try:
            page = client.get(WIDGET)
            while not stop.is_set():
                found = TOKEN.search(page.text) if page.status_code == 200 else None
                if not found:
                    tally.unexpected.append(f"GET {page.status_code}: {page.text[:300]}")
                    return
                tally.attempted += 1
                response = client.post(
                    f"{WIDGET}/vehicle", data=vehicle(tally.attempted, found.group(1))
                )
                if response.status_code != 303:
                    tally.unexpected.append(f"POST {response.status_code}: {response.text[:300]}")
                    return
                location = response.headers["location"]
                credential, _ = signer.verify_form(
                    parse_qs(urlsplit(location).query)["d"][0], max_age=3600
                )
                tally.draft_id = credential.draft_id
                tally.acknowledged = tally.attempted
                tally.location = location
                page = client.get(location)
        except httpx.TransportError as exc:
            tally.error = repr(exc)


def acknowledged(tallies: list[Tally]) -> dict[str, int]:
    """Each draft's last acknowledged save, as the browsers saw it at this moment."""
    return {t.draft_id: t.acknowledged for t in list(tallies) if t.draft_id}


def read(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows straight from a SQLite file, opened read-only."""
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def files(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a digest of its bytes: to show nothing was made or changed."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def pad(database: Path, rows: int) -> None:
    """Add `rows` page views to a demo draft, so the database is some megabytes."""
    with closing(sqlite3.connect(database)) as conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO events (dealer_id, draft_id, widget, kind, step, field, at) "
            "SELECT d.dealer_id, d.id, d.widget, 'step_viewed', d.step, NULL, d.updated_at "
            "FROM n, (SELECT * FROM drafts WHERE demo LIMIT 1) AS d",
            (rows,),
        )
        conn.commit()


@dataclass
class Live:
    """A `resume serve` child on a SQLite file, and what it takes to run commands beside it."""

    server: Server
    env: dict[str, str]
    database: Path
    folder: Path

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "resume", *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def live(tmp_path: Path, start_server: Callable[[dict[str, str], int, str], Server]) -> Live:
    """`resume serve` on a SQLite file holding Demo Motors, its demo shoppers and some
    megabytes of page views, answering."""
    port = free_port()
    database = tmp_path / "live.db"
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        RESUME_SECRET_KEYS=SECRET,
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
    )
    seed_demo(env, tmp_path)
    pad(database, PADDING_EVENTS)
    server = start_server(env, port, "serve")
    server.wait_healthy()
    return Live(server, env, database, tmp_path)


@pytest.mark.slow
def test_a_backup_taken_under_load_restores_to_a_whole_database_with_every_acknowledged_save(
    live: Live, start_server: Callable[[dict[str, str], int, str], Server]
) -> None:
    signer = Signer((SECRET,))
    stop = threading.Event()
    tallies = [Tally() for _ in range(SHOPPERS)]
    threads = [
        threading.Thread(target=shop, args=(live.server.url, t, signer, stop), daemon=True)
        for t in tallies
    ]
    try:
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while sum(t.acknowledged for t in tallies) < MIN_BEFORE:
            assert time.monotonic() - started < MAX_LOAD_SECONDS, "the load never got going"
            assert not any(t.unexpected or t.error for t in tallies), live.server.output()
            time.sleep(0.05)

        # What the shoppers saw acknowledged before the backup began, and where they were.
        # Pages first: a page read before its save's count is never newer than that count.
        pages_before = {t.draft_id: t.location for t in tallies if t.draft_id}
        before = acknowledged(tallies)
        backup_path = live.folder / "backups" / "live-copy.db"
        backup_path.parent.mkdir()
        began = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "resume", "backup", str(backup_path)],
            env=live.env,
            cwd=live.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        printed, steps = [], []
        for line in process.stdout:
            printed.append(line.rstrip("\n"))
            if PROGRESS.match(printed[-1]):
                # The shoppers' acknowledgements as each step of the copy ends.
                steps.append(sum(acknowledged(tallies).values()))
        process.wait(timeout=120)
        ended = time.monotonic()
        at_end = acknowledged(tallies)
        attempted_at_end = {t.draft_id: t.attempted for t in tallies if t.draft_id}
        stderr = process.stderr.read() if process.stderr else ""
        assert process.returncode == 0, (printed, stderr)

        # The load goes on after the backup, too.
        while sum(acknowledged(tallies).values()) < sum(at_end.values()) + MIN_BEFORE // 4:
            assert time.monotonic() - ended < MAX_LOAD_SECONDS, "the load stopped"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not [t.unexpected for t in tallies if t.unexpected], live.server.output()
    assert not [t.error for t in tallies if t.error], live.server.output()
    after = acknowledged(tallies)

    # A progress line a step, many steps, and the copy's check and size said at the end.
    progress = [PROGRESS.match(line) for line in printed if PROGRESS.match(line)]
    assert len(progress) >= 10, printed[:5]
    totals = {int(m.group(2).replace(",", "")) for m in progress if m}
    assert len(totals) == 1, f"the copy started again: totals {totals}"
    pages = totals.pop()
    copied = [int(m.group(1).replace(",", "")) for m in progress if m]
    assert copied == sorted(copied) and copied[-1] == pages
    assert any(line.startswith("integrity_check of the copy: ok; ") for line in printed), printed
    summary = re.search(r"\(([\d,]+) pages in ([\d.]+) s\)", printed[-1])
    assert summary and int(summary.group(1).replace(",", "")) == pages, printed[-3:]

    # The backup is one whole file, on its own, readable only by its owner.
    assert read(backup_path, "PRAGMA integrity_check") == [("ok",)]
    assert read(backup_path, "PRAGMA journal_mode") == [("delete",)]
    assert backup_path.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in backup_path.parent.iterdir()) == [backup_path.name]

    # Every save acknowledged before the backup began is in it; none not yet sent at its end.
    stored = {
        draft: (revision, model)
        for draft, revision, model in read(
            backup_path,
            "SELECT d.id, d.revision, v.value FROM drafts d "
            "LEFT JOIN field_values v ON v.draft_id = d.id AND v.name = 'model'",
        )
    }
    behind = []
    for draft, acked in before.items():
        revision, model = stored.get(draft, (0, None))
        counter = int(model[1:]) if model else 0
        if not acked <= revision <= attempted_at_end[draft] or not acked <= counter <= revision:
            behind.append((draft, acked, revision, model, attempted_at_end[draft]))
    assert not behind, f"(draft, acknowledged before, revision, model, attempted): {behind}"
    saved_events = read(
        backup_path,
        "SELECT count(*) FROM events WHERE kind = 'step_saved' AND draft_id IN "
        f"({', '.join(repr(draft) for draft in before)})",
    )[0][0]
    assert sum(before.values()) <= saved_events <= sum(attempted_at_end.values())
    in_copy = sum(revision for draft, (revision, _) in stored.items() if draft in before)

    acked_before, acked_at_end = sum(before.values()), sum(at_end.values())
    during_copy = steps[-1] - steps[0] if steps else 0
    print(
        f"\n{acked_before} saves acknowledged before the backup, {acked_at_end - acked_before} "
        f"while it ran ({during_copy} between its first and last step), "
        f"{sum(after.values()) - acked_at_end} after; the copy holds {in_copy} of the shoppers' "
        f"saves; {pages:,} pages in {float(summary.group(2)):.2f} s "
        f"({ended - began:.2f} s with the command's start); integrity_check ok"
    )
    assert acked_at_end > acked_before, "no save was acknowledged while the backup ran"
    # The copy is of one moment: later saves went on in the live file, not into it.
    assert in_copy < sum(after.values())

    # `resume restore` vouches for it and says how to bring it back, changing nothing.
    untouched = files(backup_path.parent)
    checked = live.command("restore", str(backup_path))
    assert checked.returncode == 0, checked.stderr
    assert "integrity_check ok" in checked.stdout
    assert "resume migrate" not in checked.stdout
    assert files(backup_path.parent) == untouched

    # Following the steps it printed: stop, move the live file and its -wal/-shm aside, copy.
    live.server.kill()
    for end in ("", "-wal", "-shm"):
        line = f"mv {live.database}{end} {live.database}.before-restore{end}"
        assert line in checked.stdout, checked.stdout
        if Path(f"{live.database}{end}").exists():
            os.rename(f"{live.database}{end}", f"{live.database}.before-restore{end}")
    assert f"cp {backup_path} {live.database}" in checked.stdout, checked.stdout
    shutil.copy(backup_path, live.database)

    # The restored database serves the shoppers the answers it kept.
    restored = start_server(live.env, live.server.port, "restored")
    restored.wait_healthy()
    draft = next(iter(before))
    with httpx.Client(base_url=restored.url, timeout=10) as client:
        assert client.get(WIDGET).status_code == 200
        page = client.get(pages_before[draft])
        assert page.status_code == 200, page.text[:500]
        token = parse_qs(urlsplit(pages_before[draft]).query)["d"][0]
        page = client.get(f"{WIDGET}/vehicle", params={"d": token})
        assert page.status_code == 200, page.text[:500]
        assert f'name="model" value="{stored[draft][1]}"' in page.text


@pytest.fixture
def quiet(tmp_path: Path, sqlite_template: Path) -> Path:
    """A migrated SQLite file holding Demo Motors, with no server running."""
    database = tmp_path / "resume.db"
    shutil.copy(sqlite_template, database)
    run(seed(make_settings(f"sqlite+aiosqlite:///{database}", tmp_path)))
    return database


def cli(database: Path | str, folder: Path, *args: str, **env: str) -> Any:
    """Run `resume` in `folder` on `database` (a SQLite file, or a URL)."""
    url = database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"
    return resume_cli(make_settings(url, folder), folder, *args, env=env)


def refused(done: Any, code: int = 2) -> str:
    """The stderr of a command that must fail plainly with `code`."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("resume: "), done.stderr
    return str(done.stderr)


@pytest.fixture
def backup_file(quiet: Path, tmp_path: Path) -> Path:
    """A backup of the quiet database, made by `resume backup`, in a folder of its own."""
    path = tmp_path / "backups" / "resume-copy.db"
    path.parent.mkdir()
    done = cli(quiet, tmp_path, "backup", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_restore_of_a_good_backup_says_how_to_bring_it_back_and_changes_nothing(
    quiet: Path, backup_file: Path, tmp_path: Path
) -> None:
    untouched = files(tmp_path)
    done = cli(quiet, tmp_path, "restore", str(backup_file))
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert f"{backup_file} is a whole resume backup (integrity_check ok" in printed
    steps = [
        "1. Stop every `resume serve` and `resume worker`",
        f"mv {quiet} {quiet}.before-restore\n",
        f"mv {quiet}-wal {quiet}.before-restore-wal\n",
        f"mv {quiet}-shm {quiet}.before-restore-shm\n",
        f"cp {backup_file} {quiet}\n",
        "4. Start `resume serve` (and any `resume worker`) again",
    ]
    at = [printed.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), printed
    assert "resume migrate" not in printed  # it is at this version's schema
    assert files(tmp_path) == untouched


def test_restore_of_an_older_backup_says_to_run_migrate(tmp_path: Path, quiet: Path) -> None:
    older = tmp_path / "older.db"
    migrate(make_settings(f"sqlite+aiosqlite:///{older}", tmp_path), "0006")
    done = cli(quiet, tmp_path, "restore", str(older))
    assert done.returncode == 0, done.stderr
    assert "schema revision 0006" in done.stdout
    assert "4. Run `resume migrate`: the backup's schema (0006) is older" in done.stdout
    assert "5. Start `resume serve`" in done.stdout


def truncated(backup: Path) -> Path:
    damaged = backup.with_name("truncated.db")
    damaged.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    return damaged


def garbage(backup: Path) -> Path:
    damaged = backup.with_name("garbage.db")
    damaged.write_bytes(b"these are not the pages you are looking for\n" * 500)
    return damaged


def scribbled(backup: Path) -> Path:
    """A whole-sized copy with one page in the middle overwritten."""
    damaged = backup.with_name("scribbled.db")
    data = bytearray(backup.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096
    data[middle : middle + 4096] = os.urandom(4096)
    damaged.write_bytes(bytes(data))
    return damaged


def someone_elses(backup: Path) -> Path:
    other = backup.with_name("notes.db")
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('buy milk')")
        conn.commit()
    return other


def from_the_future(backup: Path) -> Path:
    newer = backup.with_name("newer.db")
    shutil.copy(backup, newer)
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    return newer


def missing(backup: Path) -> Path:
    return backup.with_name("never-made.db")


BAD_BACKUPS = [
    pytest.param(truncated, "is damaged", id="truncated-to-half"),
    pytest.param(garbage, "is not a SQLite database", id="garbage"),
    pytest.param(scribbled, "is damaged", id="a-page-overwritten"),
    pytest.param(someone_elses, "not a resume database: it has no alembic_version", id="other-db"),
    pytest.param(from_the_future, "made by a newer version", id="newer-schema"),
    pytest.param(missing, "there is no backup file at", id="missing"),
]


@pytest.mark.parametrize(("make", "says"), BAD_BACKUPS)
def test_restore_refuses_a_damaged_or_foreign_file_with_a_clear_message(
    quiet: Path, backup_file: Path, tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    bad = make(backup_file)
    stderr = refused(cli(quiet, tmp_path, "restore", str(bad)))
    assert says in stderr and str(bad) in stderr, stderr


def test_restore_refuses_the_live_database_itself(quiet: Path, tmp_path: Path) -> None:
    stderr = refused(cli(quiet, tmp_path, "restore", str(quiet)))
    assert "is the live database itself" in stderr


@dataclass
class Refusal:
    """A `resume backup` that must be refused: where it is asked to write, and with what."""

    path: Path
    database: Path | str
    says: str


def existing(folder: Path, database: Path) -> Refusal:
    (folder / "backups").mkdir()
    (folder / "backups" / "resume.db").write_text("last night's backup: keep me\n")
    return Refusal(folder / "backups" / "resume.db", database, "already exists")


def missing_folder(folder: Path, database: Path) -> Refusal:
    return Refusal(folder / "nowhere" / "resume.db", database, "does not exist")


def itself(folder: Path, database: Path) -> Refusal:
    return Refusal(database, database, "is the live database itself")


def through_a_link(folder: Path, database: Path) -> Refusal:
    (folder / "link.db").symlink_to(database)
    return Refusal(folder / "link.db", database, "is the live database itself")


def its_wal(folder: Path, database: Path) -> Refusal:
    return Refusal(Path(f"{database}-wal"), database, "is the live database's -wal file")


def postgresql(folder: Path, database: Path) -> Refusal:
    # Port 1: were the command to try it, the refusal would be a connection error instead.
    url = "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/resume"
    return Refusal(folder / "resume.db", url, "use pg_dump, or WAL archiving for point-in-time")


REFUSALS = [
    pytest.param(make, force, id=f"{name}{'-force' if force else ''}")
    for make, name in (
        (existing, "path-exists"),
        (missing_folder, "folder-missing"),
        (itself, "the-database-itself"),
        (through_a_link, "the-database-through-a-link"),
        (its_wal, "the-databases-wal"),
        (postgresql, "postgresql"),
    )
    for force in (False, True)
    # --force is what lets it replace an existing file: the test after this one.
    if not (make is existing and force)
]


@pytest.mark.parametrize(("refusal", "force"), REFUSALS)
def test_backup_refuses_what_it_cannot_do_and_creates_nothing(
    quiet: Path, tmp_path: Path, refusal: Callable[[Path, Path], Refusal], force: bool
) -> None:
    asked = refusal(tmp_path, quiet)
    before = files(tmp_path)
    args = ["backup", str(asked.path), *(["--force"] if force else [])]
    stderr = refused(cli(asked.database, tmp_path, *args))
    assert asked.says in stderr, stderr
    assert "hunter2" not in stderr
    assert files(tmp_path) == before


def test_backup_with_force_replaces_an_older_copy(quiet: Path, tmp_path: Path) -> None:
    asked = existing(tmp_path, quiet)
    done = cli(quiet, tmp_path, "backup", str(asked.path), "--force")
    assert done.returncode == 0, done.stderr
    assert read(asked.path, "SELECT slug FROM dealers") == [("demo-motors",)]
    assert sorted(p.name for p in asked.path.parent.iterdir()) == ["resume.db"]


@pytest.fixture
def damaged_database(tmp_path: Path) -> Path:
    """A SQLite file with a page in the middle overwritten: what a bad disk leaves."""
    database = tmp_path / "damaged.db"
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE INDEX ix_notes_body ON notes (body)")
        conn.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"note {i} " * 20,) for i in range(2000)]
        )
        conn.commit()
    return scribbled(database).replace(database)


def test_a_damaged_database_is_not_passed_off_as_a_backup(
    damaged_database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "backups" / "resume.db"
    path.parent.mkdir()
    done = cli(damaged_database, tmp_path, "backup", str(path))
    stderr = refused(done, code=1)
    assert "the copy is damaged, so nothing was written at" in stderr
    assert "integrity_check of the copy: " in done.stdout
    assert "integrity_check of the copy: ok" not in done.stdout
    assert list(path.parent.iterdir()) == []
