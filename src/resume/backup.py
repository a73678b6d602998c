"""Backups of the embedded SQLite database: `resume backup` and `resume restore` (issue #12).

`backup` copies the live file with SQLite's online backup API into a temporary file beside
the destination, checks the copy with `PRAGMA integrity_check`, and only then renames it into
place, so an interrupted backup never leaves half a file where a backup is expected.
`check_backup` reads a copy and says what bringing it back takes; it never overwrites a live
database, because only the operator can stop every process that has the file open.
PostgreSQL has pg_dump and point-in-time recovery for this, and we don't reinvent them.

The copy reads one snapshot, held for the whole run. A paged backup otherwise starts again
from page one whenever another connection writes between two steps, so under a steady stream
of saves it may never finish (tried on 10,000 pages against one writer: it went round for as
long as we let it). In WAL mode a reader never blocks a writer, so the held snapshot costs the
server nothing but a WAL that cannot be checkpointed past it until the copy ends, and the copy
is the database exactly as it stood when the snapshot began: every save acknowledged before
then is in it. In the rollback-journal mode (a file the server has never opened) a held read
would block writers, so there each step reads on its own and writers go between steps.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import msgspec
from sqlalchemy.engine import make_url

from resume.db import BUSY_TIMEOUT_MS
from resume.errors import ConfigError
from resume.settings import Settings
from resume.tables import metadata

# About 1 MB a step with 4 KB pages: a progress line a step, each step short.
PAGES_PER_STEP = 256
# Tables every revision of our schema has had since the first migration.
FIRST_TABLES = ("dealers", "drafts", "field_values", "events")
# Lines of a failed integrity_check worth showing; it reports up to a hundred.
SHOWN_PROBLEMS = 5


class Copied(msgspec.Struct, frozen=True):
    """What `backup` made: the copy at `path` if `ok`, else nothing there."""

    source: Path
    path: Path
    pages: int
    size: int
    seconds: float
    integrity: str

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"


class Checked(msgspec.Struct, frozen=True):
    """A backup that `check_backup` found whole and ours, and the database it would replace."""

    path: Path
    size: int
    revision: str
    head: str
    database: Path

    @property
    def older(self) -> bool:
        return self.revision != self.head

    def instructions(self) -> list[str]:
        """The steps that bring the backup back, with this installation's paths."""
        live = str(self.database)
        aside = f"{live}.before-restore"
        steps = [
            "Stop every `resume serve` and `resume worker` using the database.",
            "Move the current database aside, with its -wal and -shm files if they are there "
            "(a -wal left beside the restored file would be replayed into it):\n"
            + "\n".join(
                f"       mv {shlex.quote(live + end)} {shlex.quote(aside + end)}"
                for end in ("", "-wal", "-shm")
            ),
            f"Copy the backup into place:\n       cp {shlex.quote(str(self.path))} "
            f"{shlex.quote(live)}",
        ]
        if self.older:
            steps.append(
                f"Run `resume migrate`: the backup's schema ({self.revision}) is older than "
                f"this version's ({self.head})."
            )
        steps.append(
            "Start `resume serve` (and any `resume worker`) again, with RESUME_DATA_KEYS "
            "holding the key the backup's personal data was sealed with."
        )
        return [f"  {n}. {step}" for n, step in enumerate(steps, 1)]


def database_path(settings: Settings, pg_advice: str) -> Path:
    """The live SQLite file RESUME_DATABASE_URL names; PostgreSQL gets `pg_advice`."""
    if not settings.is_sqlite:
        raise ConfigError(f"RESUME_DATABASE_URL is a PostgreSQL database: {pg_advice}")
    name = make_url(settings.database_url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise ConfigError(
            f"RESUME_DATABASE_URL names no database file ({name or 'none'!r}) to work on"
        )
    # Relative to the working folder, as the server opens it.
    return Path(name).resolve()


def backup(
    settings: Settings,
    path: str | Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Copied:
    """Copy the live database to `path`, calling `progress(copied, total)` after each step.

    Refuses (ConfigError) a PostgreSQL database, a `path` that exists (unless `force`), is a
    folder, is in a folder that does not exist, or is the live database or one of its files.
    A copy that fails its integrity check is returned with `ok` false and is not put at `path`.
    """
    source = database_path(
        settings,
        "`resume backup` copies the embedded SQLite file only. For PostgreSQL use pg_dump, "
        "or WAL archiving for point-in-time recovery (README, Backups).",
    )
    if not source.is_file():
        raise ConfigError(f"there is no database at {source} to back up (RESUME_DATABASE_URL)")
    target = Path(path).expanduser()
    resolved = target.resolve()
    _refuse_live_files(target, resolved, source, "choose another path for the copy")
    if not resolved.parent.is_dir():
        raise ConfigError(f"the folder {resolved.parent} does not exist: create it first")
    if target.is_dir():
        raise ConfigError(f"{target} is a folder: give the path of the file to write")
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists: choose a new name, or pass --force")

    # Beside the target, so the rename is atomic; mkstemp makes it readable by us alone.
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=resolved.parent
    )
    os.close(handle)
    temp = Path(name)
    started = time.monotonic()
    try:
        pages = _copy(source, temp, progress)
        integrity = _integrity(temp)
        size = temp.stat().st_size
        if integrity == "ok":
            _sync(temp)
            os.replace(temp, resolved)
            _sync(resolved.parent)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"the backup of {source} failed ({exc}); nothing was written at {target}"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return Copied(source, resolved, pages, size, time.monotonic() - started, integrity)


def check_backup(settings: Settings, path: str | Path) -> Checked:
    """Check that `path` is a whole backup of a resume database this version can bring back."""
    live = database_path(
        settings,
        "`resume restore` brings back a backup of the embedded SQLite file. Restore "
        "PostgreSQL with pg_restore, or with your point-in-time recovery.",
    )
    found = Path(path).expanduser()
    if not found.is_file():
        raise ConfigError(f"there is no backup file at {found}")
    _refuse_live_files(found, found.resolve(), live, "name a backup of it")
    try:
        with closing(_open(found)) as conn:
            tables = {
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            versions = (
                [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
                if "alembic_version" in tables
                else []
            )
        integrity = _integrity(found)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{found} is not a SQLite database, or is damaged: {exc}") from None
    if integrity != "ok":
        raise ConfigError(
            f"{found} is damaged: PRAGMA integrity_check says {integrity!r}. Use an older backup."
        )
    missing = [name for name in ("alembic_version", *FIRST_TABLES) if name not in tables]
    if missing:
        raise ConfigError(
            f"{found} is a SQLite database but not a resume database: "
            f"it has no {', '.join(missing)} table"
        )
    if len(versions) != 1:
        raise ConfigError(
            f"{found} is not a resume database: its alembic_version holds {len(versions)} "
            "revisions, not one"
        )
    revision, known = versions[0], _revisions(settings)
    if revision not in known:
        raise ConfigError(
            f"{found} is at schema revision {revision!r}, which this version of resume does "
            "not know: it was made by a newer version; restore it with that one"
        )
    head = known[-1]
    if revision == head:
        lacking = [table.name for table in metadata.sorted_tables if table.name not in tables]
        if lacking:
            raise ConfigError(
                f"{found} says it is at revision {head} but has no {', '.join(lacking)} table: "
                "it is not a whole resume database"
            )
    return Checked(found.resolve(), found.stat().st_size, revision, head, live)


def size_text(size: int) -> str:
    """A file size as a person reads it, with the exact bytes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


def _refuse_live_files(given: Path, resolved: Path, live: Path, advice: str) -> None:
    """Refuse a path that is the live database, through any spelling or link, or its -wal,
    -shm or -journal file."""
    for end in ("", "-wal", "-shm", "-journal"):
        other = Path(f"{live}{end}")
        if resolved == other or (given.exists() and other.exists() and given.samefile(other)):
            what = "the live database itself" if not end else f"the live database's {end} file"
            raise ConfigError(f"{given} is {what} ({live}): {advice}")


def _open(path: Path, mode: str = "ro") -> sqlite3.Connection:
    """Open `path` without ever creating it: `ro` for a copy, `rw` for the live file.

    The live file is opened `rw` though we only read it: a read-only connection to a WAL
    database that nothing else has open creates its -wal and -shm and cannot remove them.
    """
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _copy(source: Path, temp: Path, progress: Callable[[int, int], None] | None) -> int:
    """Copy `source` into the empty file `temp`, PAGES_PER_STEP pages a step; return the
    number of pages."""
    pages = 0

    def step(_status: int, remaining: int, total: int) -> None:
        nonlocal pages
        pages = total
        if progress is not None:
            progress(total - remaining, total)

    with closing(_open(source, "rw")) as src, closing(sqlite3.connect(temp)) as dst:
        if src.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            # Read something so the snapshot is taken now and held (module docstring).
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        src.backup(dst, pages=PAGES_PER_STEP, progress=step)
        if src.in_transaction:
            src.execute("COMMIT")
        # The copy is one file on its own: no -wal beside it to be left behind by a `cp`.
        dst.execute("PRAGMA journal_mode=DELETE")
    return pages


def _integrity(path: Path) -> str:
    """What `PRAGMA integrity_check` says of `path`: "ok", or its first problems."""
    try:
        with closing(_open(path)) as conn:
            rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.OperationalError:
        raise  # busy, unreadable: no answer about the file, so not one to report
    except sqlite3.DatabaseError as exc:
        # Damage bad enough stops the check itself ("database disk image is malformed"):
        # that is its answer.
        return str(exc)
    shown = rows[:SHOWN_PROBLEMS]
    if len(rows) > SHOWN_PROBLEMS:
        shown.append(f"... and {len(rows) - SHOWN_PROBLEMS} more")
    return "; ".join(shown)


def _revisions(settings: Settings) -> list[str]:
    """Our schema revisions, oldest first."""
    from alembic.script import ScriptDirectory

    from resume.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config(settings))
    return [found.revision for found in reversed(list(script.walk_revisions()))]


def _sync(path: Path) -> None:
    """Flush a file, or a folder's entry for a renamed file, to the disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
