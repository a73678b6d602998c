"""Issue #10's seed: a dealer group's year of drafts, for the numbers pages' benchmark.

    .venv-test/bin/python bench/seed.py --drafts 1000000 --keep            # SQLite file
    .venv-test/bin/python bench/seed.py --drafts 1000000 --postgres --keep # PostgreSQL

A fresh database (a SQLite file in a temporary folder, or `resume_bench_<pid>` on the
PostgreSQL server at 127.0.0.1:5432), migrated with `python -m resume migrate`; Demo Motors
(as `resume demo` makes it) and 19 more dealerships, 20 in all, on four US clocks, each with
three reps invited; `--drafts` drafts shared among them unevenly, their creation times spread
over the last 365 days. Every draft is a copy of one of bench/dashboard.py's 23 prototype
shoppers, planned by the product's own autosave planner (so widgets, exit steps and fields,
field values, events, consents and outbox rows are what the routes write), with a source
(UTM, a `src` label, a referring site, or none) drawn for it. About 30 % are partial leads,
each with its lead, the owner's attempts and statuses (bench/dashboard.py's Seeder), and on
some of the open ones a callback promised, kept on time, late or not at all.

The funnel's summary rows are not written by the seed: drafts and leads go in with their
cohort columns empty, the `funnel_counted` meta row is removed, and `python -m resume migrate`
counts everything again (resume.queries.funnel.rebuild), timed: that figure is what an
installation that had drafts before the funnel pays once.

A manager covering the 20 dealerships is invited with `python -m resume staff add`; the
invitation link goes into the manifest (`--manifest`, JSON) that bench/pages.py reads. The
database is dropped (PostgreSQL) or removed (SQLite) at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dashboard as dash  # bench/dashboard.py: the prototypes, the Seeder, the helpers
import run
from sqlalchemy import Boolean, delete, func, select

from resume.catalog import Catalog
from resume.dashboard.accounts import Accounts
from resume.datakeys import prepare
from resume.db import Database
from resume.dealers import DealerConfig
from resume.dealers.checks import check_config
from resume.demo import SLUG as DEMO
from resume.demo import seed as seed_demo_motors
from resume.leads import CALLBACK_GRACE
from resume.queries import dealers as dealers_q
from resume.queries import staff as staff_q
from resume.queries.funnel import COUNTED
from resume.tables import Timestamp, callbacks, leads, meta
from resume.tokens import Signer

DEALERS = 20
DAYS = 365
CHUNK = 5000  # drafts per insert transaction
MANAGER = "manager@group.example"
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
REPS = ("sales", "sales", "bdc")
# Where a shopper came from, in percent: (utm_source, utm_medium, utm_campaign, src, referrer).
SOURCES = (
    (38, (None, None, None, None, None)),
    (22, ("google", "cpc", "spring-sales", None, None)),
    (9, ("facebook", "paid_social", "trade-up", None, None)),
    (6, ("newsletter", "email", "monthly", None, None)),
    (10, (None, None, None, "vdp-banner", None)),
    (5, (None, None, None, "homepage-hero", None)),
    (7, (None, None, None, None, "https://www.cars.example/")),
    (3, (None, None, None, None, "https://www.autotrader.example/")),
)
SOURCE_WEIGHTS = [w for w, _ in SOURCES]
CALLBACK_SHARE = 0.35  # of the open leads a rep has reached or tried
# Rows go in leads first (drafts name them), callbacks after their leads.
ORDER = (*dash.ORDER, callbacks)


class Bar:
    """A progress bar on stderr, redrawn in place: done/total, rate, time left."""

    def __init__(self, total: int, label: str, unit: str = "drafts") -> None:
        self.total, self.label, self.unit = max(1, total), label, unit
        self.started = time.monotonic()
        self.drawn = 0.0

    def show(self, done: int, extra: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.drawn < 0.2 and done < self.total:
            return
        self.drawn = now
        share = min(1.0, done / self.total)
        width = 30
        filled = int(share * width)
        spent = now - self.started
        rate = done / spent if spent > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        dash.progress(
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {share * 100:5.1f}% "
            f"{done:,}/{self.total:,} {self.unit}, {rate:,.0f}/s, {spent:.0f} s, "
            f"~{left:.0f} s left{extra}"
        )

    def close(self) -> None:
        self.show(self.total, force=True)
        dash.progress("", done=True)


class YearSeeder(dash.Seeder):
    """bench/dashboard.py's Seeder over a year, with each draft's source and the callbacks
    the reps promised on their open leads."""

    def __init__(self, *args: Any, next_callback: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start = self.now - dt.timedelta(days=DAYS)
        self.span = (self.now - dt.timedelta(minutes=10) - self.start).total_seconds()
        self.next_callback = next_callback
        self.callbacks = 0

    def chunk(self, first: int, count: int) -> dict[str, list[dict[str, Any]]]:
        out = super().chunk(first, count)
        rng = self.rng
        for draft in out["drafts"]:
            utm_source, utm_medium, utm_campaign, src, referrer = rng.choices(
                SOURCES, SOURCE_WEIGHTS
            )[0][1]
            draft.update(
                utm_source=utm_source,
                utm_medium=utm_medium,
                utm_campaign=utm_campaign,
                src=src,
                page=f"https://www.{self.dealer.slug}.example/inventory" if src else None,
                referrer=referrer,
            )
        out["callbacks"] = []
        for lead in out["leads"]:
            if (
                lead["owner_id"] is not None
                and lead["last_attempt_at"] is not None
                and lead["status"] in {"attempting", "contacted", "appointment_set"}
                and rng.random() < CALLBACK_SHARE
            ):
                self.callback(lead, out)
        self.result.rows["callbacks"] += len(out["callbacks"])
        return out

    def callback(self, lead: dict[str, Any], out: dict[str, list[dict[str, Any]]]) -> None:
        """A callback promised at the last attempt, for some hours later: done in time
        (70 %), late (12 %), or not at all; as followthrough.callback and callback_done
        record them."""
        rng, now = self.rng, self.now
        created = lead["last_attempt_at"] + dt.timedelta(minutes=1)
        due = created + dt.timedelta(minutes=rng.uniform(30, 48 * 60))
        done = None
        roll = rng.random()
        if due < now:
            if roll < 0.70:
                done = due + dt.timedelta(minutes=rng.uniform(-5, 14))
            elif roll < 0.82:
                done = due + dt.timedelta(minutes=rng.uniform(16, 600))
            if done is not None and done > now:
                done = None
        callback_id = self.next_callback
        self.next_callback += 1
        self.callbacks += 1
        owner = lead["owner_id"]
        out["callbacks"].append(
            {
                "id": callback_id,
                "lead_id": lead["id"],
                "dealer_id": lead["dealer_id"],
                "staff_id": owner,
                "due_at": due,
                "late_at": due + CALLBACK_GRACE,
                "note": "Call back about the numbers",
                "created_at": created,
                "done_at": done,
            }
        )
        out["lead_activity"].append(
            dash._activity(
                lead,
                owner,
                "callback",
                created,
                detail={"due": due.isoformat(), "callback": callback_id},
            )
        )
        out["audit"].append(
            dash._audit(lead, owner, "callback_promised", created, {"callback": callback_id})
        )
        if done is not None:
            out["lead_activity"].append(
                dash._activity(lead, owner, "callback_done", done, detail={"callback": callback_id})
            )
        else:
            lead["callback_due_at"] = due


class Writer:
    """The seed's rows straight through the driver: sqlite3's executemany on SQLite, COPY
    (asyncpg's copy_records_to_table) on PostgreSQL, each value converted by the column's own
    SQLAlchemy type (Timestamp, JSON) for that dialect, as the product's inserts convert it.
    Bulk Core executemany does the same, slower: its conversions led a profile of the seed."""

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import pysqlite

            self.dialect: Any = pysqlite.dialect()
            self.sqlite = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
            self.sqlite.execute("PRAGMA synchronous=OFF")
            self.sqlite.execute("PRAGMA cache_size=-1000000")  # 1 GB: the indexes stay in memory
        else:
            from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

            self.dialect = pg_asyncpg.dialect()
        self.pg: Any = None
        self.processors: dict[tuple[str, str], Any] = {}
        self.indexes: list[tuple[str, str]] = []

    async def open(self) -> None:
        if self.name != "sqlite":
            import asyncpg

            self.pg = await asyncpg.connect(self.url.replace("+asyncpg", ""), timeout=30)

    async def drop_indexes(self) -> None:
        """Drop the seeded tables' secondary indexes (kept: those behind a primary key or a
        unique constraint), to build them once after the load, sorted, rather than row by
        row: the same indexes, by their own stored definitions."""
        names = [t.name for t in ORDER]
        if self.pg is not None:
            rows = await self.pg.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = ANY($1::text[]) AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
                names,
            )
            self.indexes = [(r["indexname"], r["indexdef"]) for r in rows]
            for name, _ in self.indexes:
                await self.pg.execute(f'DROP INDEX "{name}"')
            return
        marks = ", ".join("?" for _ in names)
        self.indexes = self.sqlite.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            names,
        ).fetchall()
        for name, _ in self.indexes:
            self.sqlite.execute(f'DROP INDEX "{name}"')

    async def build_indexes(self) -> None:
        """Make the dropped indexes again, from their definitions."""
        for _, definition in self.indexes:
            if self.pg is not None:
                await self.pg.execute(definition)
            else:
                self.sqlite.execute(definition)

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.name == "sqlite":
            self.sqlite.close()

    def _processor(self, column: Any) -> Any:
        """The column's conversion for this dialect (None: the value goes as it is)."""
        if self.name == "sqlite" and isinstance(column.type, Timestamp):
            return _sqlite_time  # what Timestamp then DateTime make of it, without the layers
        if self.name == "sqlite" and isinstance(column.type, Boolean):
            return int
        return column.type._cached_bind_processor(self.dialect)

    def _records(self, table: Any, rows: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
        columns = [c for c in rows[0] if c in table.c]
        convert = []
        for number, name in enumerate(columns):
            key = (table.name, name)
            if key not in self.processors:
                self.processors[key] = self._processor(table.c[name])
            if self.processors[key] is not None:
                convert.append((number, self.processors[key]))
        get = itemgetter(*columns)
        records = []
        for row in rows:
            values = list(get(row)) if len(columns) > 1 else [get(row)]
            for number, processor in convert:
                if values[number] is not None:
                    values[number] = processor(values[number])
            records.append(tuple(values))
        return columns, records

    async def write(self, chunk: dict[str, list[dict[str, Any]]]) -> None:
        """One transaction: every table's rows of the chunk."""
        prepared = []
        for table in ORDER:
            rows = chunk.get(table.name, [])
            if not rows:
                continue
            defaults = dash.DEFAULTS.get(table.name)
            if defaults:
                rows = [{**defaults, **r} for r in rows]
            prepared.append((table.name, *self._records(table, rows)))
        if self.pg is not None:
            async with self.pg.transaction():
                for name, columns, records in prepared:
                    await self.pg.copy_records_to_table(name, records=records, columns=columns)
            return
        self.sqlite.execute("BEGIN")
        for name, columns, records in prepared:
            marks = ", ".join("?" for _ in columns)
            self.sqlite.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", records
            )
        self.sqlite.execute("COMMIT")


def _sqlite_time(value: dt.datetime) -> str:
    """A UTC instant as SQLite keeps it (naive UTC text, microseconds always shown)."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:26]


def shares(total: int, count: int, rng: random.Random) -> list[int]:
    """`total` split among `count` dealerships unevenly (the busiest about 3x the quietest)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    scale = total / sum(weights)
    out = [int(w * scale) for w in weights]
    for n in range(total - sum(out)):
        out[n % count] += 1
    return out


class Seeding(dash.Backend):
    """One database made, migrated and seeded with the group's year (bench/dashboard.py's
    Backend, for its environment and its `python -m resume` commands)."""

    def __init__(self, name: str, url: str, folder: Path, total: int) -> None:
        super().__init__(name, url, folder, run.free_port(), analyze=False)
        self.total = total
        self.dealers: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}

    def done(self, command: Any) -> str:
        """Wait for a `python -m resume` command however long it takes (the recount at a
        million drafts takes minutes on PostgreSQL); fail with its stderr."""
        out, err = command.communicate()
        if command.returncode != 0:
            raise SystemExit(f"{' '.join(command.args[3:])} failed on {self.name}:\n{err}")
        return str(out)

    def seed(self) -> dict[str, Any]:
        """Migrate, seed, recount the funnel; return the manifest bench/pages.py reads."""
        started = time.monotonic()
        self.done(self.cli("migrate"))
        self.timings["migrate_s"] = time.monotonic() - started
        asyncio.run(self._seed_group())
        assert self.inviting is not None
        found = dash.INVITATION.search(self.done(self.inviting))
        if not found:
            raise SystemExit("resume staff add printed no invitation")
        self.manager_link = urlsplit(found[1]).path
        # The summary rows: counted again from what is stored, by the product's migrate.
        asyncio.run(self._uncount())
        print(f"  {self.name}: recounting the funnel (resume migrate) ...", file=sys.stderr)
        recount = time.monotonic()
        out = self.done(self.cli("migrate"))
        self.timings["recount_s"] = time.monotonic() - recount
        print(f"  {self.name}: {out.strip().splitlines()[0]}", file=sys.stderr)
        tidy = time.monotonic()
        if self.name == "postgresql":
            asyncio.run(dash.pg(self.url, "VACUUM ANALYZE"))
        else:
            with sqlite3.connect(self.url.split(":///", 1)[1]) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.timings["vacuum_s"] = time.monotonic() - tidy
        self.timings["total_s"] = time.monotonic() - started
        return self.manifest()

    def manifest(self) -> dict[str, Any]:
        rows: dict[str, int] = {}
        for s in self.seeded:
            for table, n in s.rows.items():
                rows[table] = rows.get(table, 0) + n
        return {
            "name": self.name,
            "url": self.url,
            "folder": str(self.folder),
            "drafts": self.total,
            "dealers": self.dealers,
            "manager": MANAGER,
            "manager_id": self.manager_id,
            "manager_link": self.manager_link,
            "rows": rows,
            "timings": self.timings,
        }

    async def _seed_group(self) -> None:
        await seed_demo_motors(self.settings)
        db = Database(self.settings)
        rng = random.Random(10)
        try:
            ring = await prepare(db, self.settings.data_keys)
            accounts = Accounts(self.settings, db, ring, Signer(self.settings.secret_keys))
            async with db.write() as conn:
                demo = await dealers_q.get_by_slug(conn, DEMO)
                assert demo is not None
                group = [demo]
                for n in range(1, DEALERS):
                    slug = f"store-{n:02d}"
                    group.append(
                        await dealers_q.add(
                            conn,
                            slug=slug,
                            name=f"Store {n:02d} Motors",
                            lead_email=f"leads@{slug}.example",
                            address=f"{100 + n} Main Street, Springfield, IL 62701",
                            phone=f"(217) 555-{n:04d}",
                            timezone=ZONES[n % len(ZONES)],
                            origins=(f"https://www.{slug}.example",),
                            config=check_config(DealerConfig()),
                        )
                    )
            # The manager, invited as an admin would, while the drafts go in.
            covers = [arg for d in group for arg in ("--dealer", d.slug)]
            self.inviting = self.cli("staff", "add", MANAGER, *covers, "--role", "manager")
            catalog = Catalog.load()
            now = dt.datetime.now(dt.UTC)
            next_lead = 1 + int(
                (await dash._scalar(db, select(func.coalesce(func.max(leads.c.id), 0)))) or 0
            )
            next_callback = 1 + int(
                (await dash._scalar(db, select(func.coalesce(func.max(callbacks.c.id), 0)))) or 0
            )
            counts = shares(self.total, DEALERS, rng)
            bar = Bar(self.total, f"  {self.name}: seeding")
            written = 0
            writer = Writer(self.name, self.url)
            await writer.open()
            await writer.drop_indexes()
            for dealer, count in zip(group, counts, strict=True):
                reps = []
                for number, role_name in enumerate(REPS):
                    email = f"{role_name}{number + 1}@{dealer.slug}.example"
                    await accounts.invite(email, role_name, (dealer.id,))
                    async with db.read() as conn:
                        account = await staff_q.by_email(conn, email)
                    assert account is not None
                    reps.append(account.id)
                protos = [dash.plan(s, dealer, catalog, ring, self.settings) for s in dash.SHAPES]
                seeder = YearSeeder(
                    dealer,
                    reps,
                    protos,
                    catalog,
                    self.settings,
                    count,
                    now,
                    next_lead,
                    rng,
                    next_callback=next_callback,
                )
                for first in range(0, count, CHUNK):
                    chunk = seeder.chunk(first, CHUNK)
                    await writer.write(chunk)
                    written += len(chunk["drafts"])
                    bar.show(written, f" ({dealer.slug})")
                next_lead, next_callback = seeder.next_lead, seeder.next_callback
                await dash.keep_last_assigned(db, seeder)
                self.seeded.append(seeder.result)
                self.dealer_ids[dealer.slug] = dealer.id
                self.dealers.append(
                    {
                        "slug": dealer.slug,
                        "id": dealer.id,
                        "name": dealer.name,
                        "timezone": dealer.timezone,
                        "drafts": seeder.result.drafts,
                        "leads": seeder.result.leads,
                    }
                )
            bar.close()
            self.timings["seed_s"] = time.monotonic() - bar.started
            print(
                f"  {self.name}: building {len(writer.indexes)} indexes ...",
                file=sys.stderr,
                flush=True,
            )
            building = time.monotonic()
            await writer.build_indexes()
            self.timings["indexes_s"] = time.monotonic() - building
            await writer.close()
        finally:
            await db.dispose()
        if self.name == "postgresql":
            await dash.pg(
                self.url,
                "SELECT setval(pg_get_serial_sequence('leads', 'id'), (SELECT MAX(id) FROM leads))",
                "SELECT setval(pg_get_serial_sequence('callbacks', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM callbacks))",
            )

    async def _uncount(self) -> None:
        """Forget that the stored drafts were counted, so that migrate counts them all."""
        db = Database(self.settings)
        try:
            async with db.write() as conn:
                await conn.execute(delete(meta).where(meta.c.name == COUNTED))
                manager = await staff_q.by_email(conn, MANAGER)
                assert manager is not None
                self.manager_id = manager.id
        finally:
            await db.dispose()


def target(kind: str, folder: Path, server: str) -> tuple[str, str, str]:
    """(name, SQLAlchemy URL, PostgreSQL database name or "") of a fresh database."""
    if kind == "sqlite":
        return "sqlite", f"sqlite+aiosqlite:///{folder}/bench.db", ""
    name = f"resume_bench_{os.getpid()}_{secrets.token_hex(3)}"
    return "postgresql", f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{name}", name


def create(server: str, name: str) -> None:
    asyncio.run(dash.pg(f"{server}/postgres", f'CREATE DATABASE "{name}"'))


def drop(manifest_or_server: str, name: str) -> None:
    asyncio.run(
        dash.pg(f"{manifest_or_server}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


def seed_one(kind: str, total: int, server: str = dash.PG_SERVER) -> dict[str, Any]:
    """Make, migrate and seed one database; return its manifest (with `pg_name` and
    `pg_server` for dropping it later)."""
    folder = Path(tempfile.mkdtemp(prefix=f"resume-bench-{kind}-"))
    name, url, pg_name = target(kind, folder, server)
    if pg_name:
        create(server, pg_name)
    try:
        manifest = Seeding(name, url, folder, total).seed()
    except BaseException:
        discard({"folder": str(folder), "pg_name": pg_name, "pg_server": server})
        raise
    manifest.update(pg_name=pg_name, pg_server=server if pg_name else "")
    return manifest


def discard(manifest: dict[str, Any]) -> None:
    """Drop a seeded database and remove its folder."""
    if manifest.get("pg_name"):
        drop(manifest["pg_server"], manifest["pg_name"])
    shutil.rmtree(manifest["folder"], ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=1_000_000, help="drafts in all")
    parser.add_argument(
        "--postgres", nargs="?", const=dash.PG_SERVER, default="",
        help=f"seed a fresh database on this PostgreSQL server (default {dash.PG_SERVER}) "
        "instead of a SQLite file",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the database (and say where)")
    parser.add_argument("--manifest", type=Path, help="write the manifest (JSON) here")
    args = parser.parse_args(argv)
    if not 100 <= args.drafts <= 5_000_000:
        raise SystemExit("--drafts takes 100 to 5,000,000")
    kind = "postgresql" if args.postgres else "sqlite"
    manifest = seed_one(kind, args.drafts, args.postgres or dash.PG_SERVER)
    t = manifest["timings"]
    print(
        f"{kind}: {args.drafts:,} drafts, "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(manifest["rows"].items()))
        + f"; seeded in {t['seed_s']:.0f} s, funnel recounted in {t['recount_s']:.0f} s, "
        f"{t['total_s']:.0f} s in all"
    )
    if args.manifest:
        args.manifest.write_text(json.dumps(manifest, indent=2))
    if args.keep:
        where = manifest["pg_name"] or manifest["url"].split(":///", 1)[1]
        print(f"kept {where} (manifest: {args.manifest or 'not written'})", file=sys.stderr)
    else:
        discard(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
