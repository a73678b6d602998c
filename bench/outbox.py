"""Issue #4's benchmark: messages a second through the outbox, against a raw send loop.

    .venv-test/bin/python bench/outbox.py            # from the repository root

One run builds a queue of real messages on a fresh PostgreSQL database and a fresh SQLite file
(Demo Motors from `resume demo`, shoppers who leave the payment widget driven through the app,
their exits found by the cadence code: a resume link and five follow-up touches per draft),
then measures, alternately and `--repeat` times:

- raw: outbox_raw.py, the same messages built by `Composer.build` and sent with aiosmtplib
  on one connection, no database (the baseline);
- `resume worker` processes draining the whole queue: one on PostgreSQL, four on PostgreSQL,
  one on SQLite.

Mail goes to smtp_sink.py, an aiosmtpd server in its own process that counts and discards.
The raw loop and the single worker run on core 0, the sink on core 1. Prints the table and
writes it, with the raw figures, to bench/results/outbox-<timestamp>.txt|.json (git-ignored).
Exits 1 if a row did not deliver every message exactly once.

`--profile` instead samples the raw loop and one worker on each database with py-spy and
prints where the time goes. `--rows raw,pg1` measures some rows only; `--code DIR` runs the
raw loop and the workers on another checkout's src/ (to measure before a change).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import datetime as dt
import json
import logging
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's code, as the child processes run it

import hotspots  # noqa: E402
import loadgen  # noqa: E402
import run  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from resume.db import Database  # noqa: E402
from resume.settings import Settings  # noqa: E402
from resume.tables import outbox  # noqa: E402

WORKER_CORE = "0"
SINK_CORE = "1"
SECRET = "bench-secret-key-0123456789abcdef"  # throwaway keys for this run's databases only
DATA_KEY = base64.urlsafe_b64encode(b"bench-data-key-0123456789abcdef!").decode()
PG_ADMIN = ["postgresql://postgres@127.0.0.1:5432"]  # --postgres swaps in another server
TARGET_ONE = 0.80  # issue #4: one worker at least 80 % of the raw loop
TARGET_FOUR = 1.5  # four workers at least 1.5 times one
HOLD = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)  # due_at that keeps the queue still between rows
ROWS = ("raw", "pg1", "pg4", "sqlite1")
CODE = [ROOT / "src"]  # what the measured processes run; --code swaps in another checkout's src

# Shoppers who leave: (make, model, trim, price, term). A term of "6o" is a typo the shopper
# leaves uncorrected, so that exit's touches name the field they stopped on.
VEHICLES = (
    ("Toyota", "RAV4", "XLE", "32,000", "60"),
    ("Honda", "CR-V", "EX-L", "35,450", "6o"),
    ("Ford", "F-150", "Lariat", "58,900", "72"),
    ("Kia", "EV6", "Wind", "45,000", "6o"),
    ("Subaru", "Outback", "Premium", "31,200", "48"),
    ("Hyundai", "Tucson", "SEL", "29,990", "60"),
)


def bench_env(database_url: str, folder: Path, smtp_port: int) -> dict[str, str]:
    """The environment of every child: this run's database, keys and sink, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUME_")}
    env.update(
        PYTHONPATH=str(CODE[0]),
        RESUME_DATABASE_URL=database_url,
        RESUME_SECRET_KEYS=SECRET,
        RESUME_DATA_KEYS=DATA_KEY,
        RESUME_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        RESUME_MAIL_DIR=str(folder / "mail"),
        RESUME_MIN_FORM_SECONDS="0",
        RESUME_RATE_LIMIT_IP="100000000",
        RESUME_RATE_LIMIT_DRAFT="100000000",
        # Every shopper of the queue asks for its link from the same test client address.
        RESUME_RATE_LIMIT_LINKS="100000000",
        # Idle workers look often, so a row starts within 50 ms of its queue being released.
        RESUME_WORKER_POLL_SECONDS="0.05",
        # RESUME_LOG_LEVEL is left at its default, INFO: a line per message, as deployed.
    )
    return env


class Sink:
    """smtp_sink.py pinned to its own core; asked for its counts over a pipe."""

    def __init__(self, folder: Path) -> None:
        self.port = run.free_port()
        self.proc = subprocess.Popen(
            ["taskset", "-c", SINK_CORE, run.python(), str(BENCH / "smtp_sink.py")]
            + ["--port", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(folder / "sink.log", "wb"),  # noqa: SIM115 - lives as long as the sink
            text=True,
        )
        assert self.proc.stdout is not None
        if not self.proc.stdout.readline().startswith("ready"):
            raise SystemExit(f"the SMTP sink did not start; see {folder / 'sink.log'}")

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Queue:
    """One backend's database with its queue of real messages, held still between rows."""

    def __init__(self, name: str, url: str, folder: Path, sink: Sink) -> None:
        self.name, self.url, self.folder = name, url, folder
        self.env = bench_env(url, folder, sink.port)
        self.settings = Settings.from_env(self.env)
        self.size = 0

    def fill(self, messages: int) -> None:
        """Seed Demo Motors, bring shoppers in and let them leave, find their exits."""
        seeded = subprocess.run(
            [run.python(), "-m", "resume", "demo"],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            check=False,
        )
        if seeded.returncode != 0:
            raise SystemExit(f"resume demo failed on {self.name}:\n{seeded.stderr.decode()}")
        shoppers = -(-messages // 6)  # each leaves a resume link and five touches
        leave(self.settings, shoppers)
        asyncio.run(find_exits(self.settings))
        self.size = self.hold()

    def hold(self) -> int:
        """Put every message back to pending, due in 2100; return how many there are."""

        async def work() -> int:
            db = Database(self.settings)
            try:
                async with db.write() as conn:
                    await conn.execute(
                        update(outbox).values(
                            status="pending",
                            attempts=0,
                            due_at=HOLD,
                            leased_until=None,
                            lease_owner=None,
                            sent_at=None,
                            reply=None,
                            last_error=None,
                        )
                    )
                    return int((await conn.execute(select(func.count(outbox.c.id)))).scalar_one())
            finally:
                await db.dispose()

        size = asyncio.run(work())
        self.settle()
        return size

    def settle(self) -> None:
        """Start each row from the same state: no dead rows, no pending checkpoint."""
        if self.name == "sqlite":
            path = self.url.split(":///", 1)[1]
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            asyncio.run(pg_admin(self.url.rsplit("/", 1)[1], "VACUUM ANALYZE", "CHECKPOINT"))

    def release(self) -> float:
        """Make the whole queue due now; return the monotonic time of the commit."""

        async def work() -> None:
            db = Database(self.settings)
            try:
                async with db.write() as conn:
                    await conn.execute(update(outbox).values(due_at=dt.datetime.now(dt.UTC)))
            finally:
                await db.dispose()

        asyncio.run(work())
        return time.monotonic()

    def outcome(self) -> dict[str, Any]:
        """Statuses and lease owners, once no message is pending any more (or 30 s passed)."""

        async def work() -> dict[str, Any]:
            db = Database(self.settings)
            try:
                async with db.read() as conn:
                    statuses = dict(
                        (
                            await conn.execute(
                                select(outbox.c.status, func.count()).group_by(outbox.c.status)
                            )
                        ).all()
                    )
                    owners = (
                        await conn.execute(select(func.count(func.distinct(outbox.c.lease_owner))))
                    ).scalar_one()
                    most = (await conn.execute(select(func.max(outbox.c.attempts)))).scalar_one()
                return {"statuses": statuses, "owners": owners, "max_attempts": most}
            finally:
                await db.dispose()

        deadline = time.monotonic() + 30
        while True:
            found = asyncio.run(work())
            if "pending" not in found["statuses"] or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


async def pg_admin(database: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_ADMIN[0]}/{database}", timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def leave(settings: Settings, shoppers: int) -> None:
    """Shoppers fill the vehicle and plan steps, save the numbers for later with a follow-up
    consent, ask for their link by email, and go: what an abandoned estimate looks like."""
    from litestar.testing import TestClient

    from resume.web.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    token = re.compile(r'name="d" value="([^"]+)"')
    base = "/embed/demo-motors/payment"
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        for n in range(shoppers):
            make, model, trim, price, term = VEHICLES[n % len(VEHICLES)]
            page = client.get(base)
            steps = (
                ("vehicle", "continue", {"condition": "new", "year": "2024", "make": make}
                 | {"model": model, "trim": trim, "stock_number": f"DM{n:05d}", "price": price}),
                ("plan", "continue", {"plan": "finance", "credit": "good"}),
                ("numbers", "save", {"down_payment": "3000", "term": term}
                 | {"trade_value": "8000", "trade_payoff": "5000"}),
                ("save", "send", {"from": "numbers", "email": f"shopper{n}@example.com"}
                 | {"consent_followup": "yes"}),
            )  # fmt: skip
            for step, action, fields in steps:
                found = token.search(page.text)
                assert found, f"no credential on the page before {step}"
                data = {"d": found.group(1), "comment_hp": "", "action": action, **fields}
                saved = client.post(f"{base}/{step}", data=data, follow_redirects=False)
                if saved.status_code != 303:
                    raise SystemExit(f"{step} answered {saved.status_code}: {saved.text[:300]}")
                page = client.get(saved.headers["location"])


async def find_exits(settings: Settings) -> None:
    """Run the cadence's exit detection two hours on: every shopper has left by then."""
    from resume.cadence import detect_exits
    from resume.catalog import Catalog
    from resume.datakeys import prepare

    db = Database(settings)
    try:
        ring = await prepare(db, settings.data_keys)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        await detect_exits(db, settings, Catalog.load(), ring, later)
    finally:
        await db.dispose()


def ticks() -> dict[str, tuple[int, int]]:
    return loadgen.core_ticks()


def run_raw(queue: Queue, sink: Sink, parts: bool) -> dict[str, Any]:
    sink0 = sink.ask("reset")["cpu"]
    argv = ["taskset", "-c", WORKER_CORE, run.python(), str(BENCH / "outbox_raw.py")]
    argv += ["--smtp-port", str(sink.port)] + (["--parts"] if parts else [])
    before = ticks()
    done = subprocess.run(argv, env=queue.env, capture_output=True, check=False, timeout=900)
    cores = loadgen.core_busy(before, ticks())
    if done.returncode != 0:
        raise SystemExit(f"the raw loop failed:\n{done.stderr.decode()[-3000:]}")
    result = json.loads(done.stdout)
    stats = sink.ask("stats")
    loop = result["loop"]
    expected = result["messages"] * (3 if parts else 1)
    return {
        "messages": result["messages"],
        "per_s": loop["per_s"],
        "seconds": loop["seconds"],
        "cpu": loop["cpu"] / loop["seconds"],
        "sink_cpu": None if parts else (stats["cpu"] - sink0) / loop["seconds"],
        "core_busy": cores,
        "ok": stats["count"] == expected and stats["unique_ids"] == result["messages"],
        "detail": result,
    }


def start_workers(queue: Queue, count: int, cores: str, folder: Path) -> list[Any]:
    workers = []
    for n in range(count):
        log = folder / f"{queue.name}-worker-{n}.log"
        workers.append(
            (
                subprocess.Popen(
                    ["taskset", "-c", cores, run.python(), "-m", "resume", "worker"],
                    env=queue.env,
                    cwd=folder,
                    stdout=subprocess.DEVNULL,
                    stderr=open(log, "wb"),  # noqa: SIM115 - closed in stop_workers
                ),
                log,
            )
        )
    deadline = time.monotonic() + 60
    for proc, log in workers:
        while " started" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start; see {log}")
            time.sleep(0.05)
    time.sleep(0.5)  # past its first pass (exit detection), polling the held queue
    return workers


def stop_workers(workers: list[Any]) -> list[int]:
    for proc, _ in workers:
        proc.send_signal(signal.SIGTERM)
    codes = []
    for proc, _ in workers:
        try:
            codes.append(proc.wait(timeout=60))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


def run_workers(
    queue: Queue, sink: Sink, count: int, cores: str, folder: Path, spy: Path | None = None
) -> dict[str, Any]:
    sink.ask("reset")
    workers = start_workers(queue, count, cores, folder)
    recorder = None
    if spy is not None:
        recorder = subprocess.Popen(
            ["taskset", "-c", SINK_CORE, py_spy(), "record", "--pid", str(workers[0][0].pid)]
            + ["--rate", "200", "--gil", "--format", "raw", "--output", str(spy)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    try:
        cpu0 = [loadgen.cpu_seconds(proc.pid) for proc, _ in workers]
        sink0 = sink.ask("stats")["cpu"]
        before = ticks()
        started = queue.release()
        stats = sink.ask(f"wait {queue.size} 600")
        cores_busy = loadgen.core_busy(before, ticks())
        cpu1 = [loadgen.cpu_seconds(proc.pid) for proc, _ in workers]
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
        codes = stop_workers(workers)
    seconds = (stats["last"] or started) - started
    outcome = queue.outcome()
    queue.hold()
    sent = outcome["statuses"].get("sent", 0)
    return {
        "messages": stats["count"],
        "per_s": stats["count"] / seconds if seconds > 0 else 0.0,
        "seconds": seconds,
        "cpu": sum(b - a for a, b in zip(cpu0, cpu1, strict=True)) / max(seconds, 1e-9),
        "sink_cpu": (stats["cpu"] - sink0) / max(seconds, 1e-9),
        "core_busy": cores_busy,
        "ok": stats["count"] == queue.size
        and stats["unique_ids"] == queue.size
        and sent == queue.size
        and outcome["owners"] == count
        and all(code == 0 for code in codes),
        "detail": {"outcome": outcome, "exit_codes": codes, "sink": stats},
    }


def others(r: dict[str, Any]) -> float:
    """CPU (in cores) used on the machine during the row by anything but ours (PostgreSQL too)."""
    busy = sum(r["core_busy"].values())
    return max(0.0, busy - r["cpu"] - (r["sink_cpu"] or 0.0))


RATIOS = (
    # (label, row, against, target): each row against a row of the same round.
    ("1 worker, PostgreSQL / raw loop", "1 worker, PostgreSQL", "raw loop", TARGET_ONE),
    ("1 worker, SQLite / raw loop", "1 worker, SQLite", "raw loop", TARGET_ONE),
    ("4 workers / 1 worker, PostgreSQL", "4 workers, PostgreSQL", "1 worker, PostgreSQL",
     TARGET_FOUR),
)  # fmt: skip


def ratios(rows: list[dict[str, Any]]) -> list[str]:
    """Each ratio in each round, rows measured minutes apart at most: the machine is shared."""
    rounds = sorted({r["round"] for r in rows})
    by = {(r["round"], r["name"]): r for r in rows}
    lines = [
        "ratios, round by round (msgs/s; in brackets per CPU-second of the processes measured):"
    ]
    for label, name, against, target in RATIOS:
        found = [
            (by[n, name], by[n, against]) for n in rounds if (n, name) in by and (n, against) in by
        ]
        if not found:
            continue
        shown = ", ".join(
            f"{a['per_s'] / b['per_s']:.2f} ({per_cpu(a) / per_cpu(b):.2f})" for a, b in found
        )
        top = max(a["per_s"] / b["per_s"] for a, b in found)
        verdict = "meets" if top >= target else "BELOW"
        lines.append(f"  {label}: {shown}; best {top:.2f}, {verdict} the {target:.2f} target")
    return lines


def per_cpu(r: dict[str, Any]) -> float:
    return float(r["per_s"] / r["cpu"]) if r["cpu"] else 0.0


def table(report: dict[str, Any]) -> str:
    lines = [
        f"resume issue #4 outbox benchmark, {report['date']}, {report['machine']}",
        f"{report['messages']} messages a row ({report['message_bytes']:.0f} bytes on average: "
        "a resume link and five follow-up touches per draft, text + HTML);",
        f"raw loop and one worker on core {WORKER_CORE}, four workers on cores "
        f"{report['four_cores']}, SMTP sink on core {SINK_CORE}, PostgreSQL not pinned",
        "",
        f"{'round, row':<25}{'msgs/s':>8}{'seconds':>9}{'CPU':>7}{'msgs/CPU-s':>11}"
        f"{'sink CPU':>9}{'others':>8}  ok",
    ]
    for r in report["rows"]:
        sink = f"{r['sink_cpu'] * 100:.0f}%" if r["sink_cpu"] is not None else "-"
        lines.append(
            f"{r['round']:>2} {r['name']:<22}{r['per_s']:>8.0f}{r['seconds']:>9.2f}"
            f"{r['cpu'] * 100:>6.0f}%{per_cpu(r):>11.0f}{sink:>9}{others(r) * 100:>7.0f}%"
            f"  {'yes' if r['ok'] else 'NO'}"
        )
    lines += [
        "",
        "CPU: share of a core the raw loop or the worker processes used (summed over workers);",
        "others: CPU other processes took meanwhile, PostgreSQL's backends included.",
        "",
    ]
    lines += ratios(report["rows"])
    parts = report.get("parts")
    if parts:
        lines += [
            "",
            f"the raw loop's halves, timed apart after the rounds (same rows, core {WORKER_CORE}): "
            f"the loop {parts['loop']['per_s']:.0f} msgs/s; build only "
            f"{parts['build']['per_s']:.0f}/s; send_message of messages built beforehand "
            f"{parts['send']['per_s']:.0f}/s; sendmail of bytes flattened beforehand "
            f"{parts['send_bytes']['per_s']:.0f}/s (SMTP and the sink alone)",
        ]
    return "\n".join(lines)


def py_spy() -> str:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv-test/bin/pip install py-spy")
    return spy


# Where a sample of a worker (or of the raw loop) belongs: the first rule with a frame on the
# stack, as (label, function, part of its file). SQL run through SQLAlchemy's asyncio layer
# executes in greenlets, which py-spy shows as stacks of their own, without the caller.
STAGES = (
    ("claim a batch", (("claim", "queries/outbox.py"),)),
    ("mark sent, count the touch", (("mark_sent", "queries/outbox.py"),)),
    # The touch was a statement of its own until the mark counted it (kept for --code runs).
    ("mark sent, count the touch", (("count_touch", "queries/leads.py"),)),
    # Issue #14: a batch's drafts are read once, at the claim; at send, one statement.
    ("reads at claim: the batch's drafts and values", (("load_many", "queries/drafts.py"),)),
    (
        "reads at send: dealer, draft + values, suppression",
        (
            ("get", "queries/dealers.py"),
            ("load", "queries/drafts.py"),
            ("load_sync", "queries/drafts.py"),
            ("is_suppressed", "queries/suppressions.py"),
            ("recheck", "queries/outbox.py"),
            ("Batch.draft", "resume/claimed.py"),
            ("about", "mail/stops.py"),
            ("read", "resume/db.py"),
        ),
    ),
    ("connections: check-out, check-in, BEGIN, COMMIT", (("begin", "resume/db.py"),)),
    ("connections: check-out, check-in, BEGIN, COMMIT", (("write", "resume/db.py"),)),
    ("connections: check-out, check-in, BEGIN, COMMIT", (("Held.begin", "resume/claimed.py"),)),
    ("connections: check-out, check-in, BEGIN, COMMIT", (("Batch.close", "resume/claimed.py"),)),
    ("build: Jinja2 templates", (("Template.render", "jinja2/"),)),
    ("build: estimate (payment calculation)", (("estimate", "resume/kinds/payment.py"),)),
    (
        "build: tokens",
        (
            ("Composer.resume_url", "mail/compose.py"),
            ("Composer.unsubscribe_url", "mail/compose.py"),
        ),
    ),
    ("build: email headers and parts (stdlib email)", (("Composer.build", "mail/compose.py"),)),
    ("send: serialize (email.generator via aiosmtplib)", (("flatten_message", "aiosmtplib/"),)),
    (
        "send: SMTP commands and replies (aiosmtplib)",
        (("SMTP.send_message", "aiosmtplib/"), ("SMTPProtocol.data_received", "aiosmtplib/")),
    ),
    ("log line per message", (("_log", "resume/worker.py"),)),
    (
        "exit detection and retention (every 30 s)",
        (("detect_exits", "resume/cadence.py"), ("purge_database", "resume/retention.py")),
    ),
    ("SQLAlchemy in greenlets, caller not on the stack", (("", "sqlalchemy/"),)),
    ("event loop: I/O callbacks (asyncpg, sockets), scheduling", (("", "asyncio/"),)),
)


def stage_of(frames: list[tuple[str, str]]) -> str:
    for label, marks in STAGES:
        for name, part in marks:
            if any(
                (not name or f == name or f.endswith("." + name)) and part in p for f, p in frames
            ):
                return label
    return "other"


def profile_report(raw: Path, title: str) -> str:
    stacks = hotspots.parse(raw)
    total = sum(c for _, c in stacks) or 1
    stages: collections.Counter[str] = collections.Counter()
    components: collections.Counter[str] = collections.Counter()
    by_self: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        real = [f for f in frames if f[1]] or frames
        stages[stage_of(real)] += count
        func, file = real[-1]
        path = file.rsplit(":", 1)[0]
        by_self[f"{func} ({path})"] += count
        components[component_of(path)] += count

    def pct(n: int) -> str:
        return f"{n / total * 100:5.1f}%"

    lines = [f"{title}: {total} samples (py-spy --gil, 200 Hz: Python holding the GIL)", ""]
    lines += ["by stage (whole stack):"] + [f"  {pct(n)}  {s}" for s, n in stages.most_common()]
    lines += ["", "by component (innermost frame):"]
    lines += [f"  {pct(n)}  {c}" for c, n in components.most_common(14)]
    lines += ["", "top 25 functions by self time:"]
    lines += [f"  {pct(n)}  {f}" for f, n in by_self.most_common(25)]
    return "\n".join(lines)


def component_of(path: str) -> str:
    for name, marks in (
        ("stdlib email", ("email/",)),
        ("Jinja2 + markupsafe", ("jinja2/", "markupsafe/", ".html", ".txt")),
        ("SQLAlchemy", ("sqlalchemy/",)),
        ("asyncpg", ("asyncpg/",)),
        ("aiosqlite + sqlite3", ("aiosqlite/", "sqlite3/")),
        ("aiosmtplib", ("aiosmtplib/",)),
        ("resume", ("resume/",)),
        ("logging", ("logging/",)),
        ("asyncio", ("asyncio/", "selectors.py", "socket.py")),
        ("cryptography (opening sealed values)", ("cryptography/",)),
        ("itsdangerous + hmac", ("itsdangerous/", "hmac.py", "hashlib.py", "base64.py")),
        ("re", ("re/",)),
    ):
        if any(f"/{m}" in path or path.startswith(m) or path.endswith(m) for m in marks):
            return name
    return "other: " + path.rsplit("/", 1)[-1]


def profile(args: argparse.Namespace, queues: dict[str, Queue], sink: Sink, folder: Path) -> str:
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    texts = []
    first = next(iter(queues.values()))
    # The raw loop, sampled from its start: outbox_raw.py reads the queue first, so only the
    # samples inside its timed loop (under `main`, not `load`) are kept.
    out = args.results / f"outbox-profile-raw-{stamp}.txt"
    sink.ask("reset")
    subprocess.run(
        [py_spy(), "record", "--rate", "200", "--gil", "--format", "raw", "--output", str(out)]
        + ["--"]
        + ["taskset", "-c", WORKER_CORE, run.python(), str(BENCH / "outbox_raw.py")]
        + ["--smtp-port", str(sink.port)],
        env=first.env,
        capture_output=True,
        check=True,
    )
    kept = [
        line
        for line in out.read_text().splitlines()
        if "main (outbox_raw.py" in line and "load (outbox_raw.py" not in line
    ]
    out.write_text("\n".join(kept) + "\n")
    texts.append(profile_report(out, "raw loop (build + send_message)"))
    for name, queue in queues.items():
        out = args.results / f"outbox-profile-{name}-{stamp}.txt"
        row = run_workers(queue, sink, 1, WORKER_CORE, folder, spy=out)
        texts.append(
            profile_report(out, f"one `resume worker` on {name} ({row['per_s']:.0f} msgs/s)")
        )
    text = "\n\n".join(texts)
    (args.results / f"outbox-profile-{stamp}-report.txt").write_text(text + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=3000, help="queued per database")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of rows, alternating")
    parser.add_argument("--four-cores", default="0,1", help="taskset cores of the four workers")
    parser.add_argument(
        "--rows",
        default=",".join(ROWS),
        help=f"which rows, of {','.join(ROWS)} (the raw loop always)",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=CODE[0],
        help="the src folder the raw loop and the workers run (to measure before a change)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=120.0)
    parser.add_argument("--profile", action="store_true", help="py-spy profiles instead")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--from-json", type=Path, help="only print the table of a saved run")
    parser.add_argument(
        "--postgres",
        default=PG_ADMIN[0],
        help="the PostgreSQL server to make this run's database on (user with CREATEDB)",
    )
    parser.add_argument(
        "--results", type=Path, default=run.RESULTS, help="folder for the table and the figures"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        print(table(json.loads(args.from_json.read_text())))
        return 0
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        raise SystemExit("needs taskset and two cores (workers on 0, the SMTP sink on 1)")
    if not (6 <= args.messages <= 100_000 and 1 <= args.repeat <= 10):
        raise SystemExit("--messages takes 6 to 100000, --repeat 1 to 10")
    rows_wanted = set(args.rows.split(",")) | {"raw"}
    if rows_wanted - set(ROWS):
        raise SystemExit(f"--rows takes some of {','.join(ROWS)}")
    CODE[0] = args.code.resolve()
    PG_ADMIN[0] = args.postgres.removesuffix("/")

    folder = Path(tempfile.mkdtemp(prefix="resume-outbox-bench-"))
    pg_name = f"resume_bench_{os.getpid()}_{secrets.token_hex(3)}"
    sink = Sink(folder)
    queues: dict[str, Queue] = {}
    rows: list[dict[str, Any]] = []
    try:
        if rows_wanted & {"pg1", "pg4"} and not args.no_postgres:
            asyncio.run(pg_admin("postgres", f'CREATE DATABASE "{pg_name}"'))
            url = PG_ADMIN[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + pg_name
            queues["postgresql"] = Queue("postgresql", url, folder, sink)
        if "sqlite1" in rows_wanted and not args.no_sqlite:
            url = f"sqlite+aiosqlite:///{folder}/outbox.db"
            queues["sqlite"] = Queue("sqlite", url, folder, sink)
        if not queues:
            raise SystemExit("nothing to measure")
        for name, queue in queues.items():
            print(f"queueing {args.messages} messages on {name} ...", file=sys.stderr, flush=True)
            queue.fill(args.messages)
        if args.profile:
            print(profile(args, queues, sink, folder))
            return 0

        def row(name: str, round_: int, measure: Any) -> None:
            print(f"{name} ...", file=sys.stderr, flush=True)
            busy = run.wait_for_quiet(args.quiet_wait)
            result = measure()
            rows.append({"name": name, "round": round_, "busy_before": busy, **result})
            print(f"  {result['per_s']:.0f} msgs/s", file=sys.stderr, flush=True)

        first = next(iter(queues.values()))
        pg = queues.get("postgresql")
        lite = queues.get("sqlite")
        four = args.four_cores
        for n in range(1, args.repeat + 1):
            row("raw loop", n, lambda: run_raw(first, sink, parts=False))
            if pg is not None and "pg1" in rows_wanted:
                row(
                    "1 worker, PostgreSQL", n, lambda: run_workers(pg, sink, 1, WORKER_CORE, folder)
                )
            if pg is not None and "pg4" in rows_wanted:
                row("4 workers, PostgreSQL", n, lambda: run_workers(pg, sink, 4, four, folder))
            if lite is not None:
                row("1 worker, SQLite", n, lambda: run_workers(lite, sink, 1, WORKER_CORE, folder))
        run.wait_for_quiet(args.quiet_wait)
        parts = run_raw(first, sink, parts=True)
    finally:
        sink.stop()
        if "postgresql" in queues:
            asyncio.run(pg_admin("postgres", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": run.machine(),
        "code": str(CODE[0]),
        "messages": first.size,
        "message_bytes": parts["detail"]["message_bytes"],
        "four_cores": args.four_cores,
        "rows": rows,
        "parts": {k: parts["detail"][k] for k in ("loop", "build", "send", "send_bytes")},
        "parts_ok": parts["ok"],
    }
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.results / f"outbox-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (args.results / f"outbox-{stamp}.txt").write_text(text + "\n")
    return 0 if all(r["ok"] for r in rows) and parts["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
