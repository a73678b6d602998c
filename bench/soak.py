"""Issue #12's soak: 128 shoppers at once for 60 s against the whole server, on SQLite and on
PostgreSQL, then every acknowledged save looked for in the rows.

    .venv-test/bin/python bench/soak.py                       # both databases, 128 x 60 s
    .venv-test/bin/python bench/soak.py --databases sqlite --duration 10

Each database gets a fresh store (a new SQLite file; a new PostgreSQL database on
127.0.0.1:5432, user postgres, dropped afterwards), `resume demo` to seed it, and `resume serve`
with its outbox worker, as an install runs. The shoppers are bench/loadgen.py's: first page,
then the vehicle step posted again and again, each redirect followed. The baseline is the bare
route (bench/bare_app.py) under the same load in the same run, so the latency figures read as
ratios on this shared machine. Passes only with 0 lost acknowledged saves, 0 5xx and no error.
Prints a table and writes it, with the raw figures, to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from run import RESULTS, Server, free_port, load, machine, python, server_env

PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
# What the shoppers' saves left: demo shoppers seeded by `resume demo` are not counted.
SAVED = (
    "SELECT count(*), coalesce(sum(d.revision), 0) FROM drafts d WHERE NOT d.demo",
    "SELECT count(*) FROM events e JOIN drafts d ON d.id = e.draft_id "
    "WHERE e.kind = 'step_saved' AND NOT d.demo",
)


def psql(sql: str, database: str = "postgres") -> str:
    done = subprocess.run([*PG_ADMIN, "-d", database, "-c", sql], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            "PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) is needed for the soak "
            f"on PostgreSQL; start it, or pass --databases sqlite.\n{done.stderr}"
        )
    return done.stdout.strip()


class Store:
    """A fresh database for one soak: its URL, how to count what it holds, how to drop it."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.path = folder / "bench.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
        else:
            self.name = f"resume_soak_{os.getpid()}"
            psql(f"DROP DATABASE IF EXISTS {self.name}")
            psql(f"CREATE DATABASE {self.name}")
            self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"

    def counts(self) -> tuple[int, int, int]:
        """Drafts the shoppers started, the sum of their revisions, their step_saved events."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                drafts, revisions = conn.execute(SAVED[0]).fetchone()
                (events,) = conn.execute(SAVED[1]).fetchone()
        else:
            drafts, revisions = (int(v) for v in psql(SAVED[0], self.name).split("|"))
            events = int(psql(SAVED[1], self.name))
        return int(drafts), int(revisions), int(events)

    def drop(self) -> None:
        if self.kind != "sqlite":
            psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def soak(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    here = Path(tempfile.mkdtemp(prefix=f"soak-{kind}-", dir=folder))
    store = Store(kind, here)
    try:
        port = free_port()
        env = {**server_env(port, here), "RESUME_DATABASE_URL": store.url}
        for command in (["migrate"], ["demo"]):
            done = subprocess.run(
                [python(), "-m", "resume", *command], env=env, cwd=here, capture_output=True
            )
            if done.returncode != 0:
                raise SystemExit(f"resume {command[0]} failed:\n{done.stderr.decode()}")
        argv = [python(), "-m", "resume", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(f"ours-{kind}", argv, port, here, "/healthz", env=env)
        try:
            result = load("resume", server, args.connections, args)
        finally:
            result["server_exit"] = server.stop()
        drafts, revisions, events = store.counts()
    finally:
        store.drop()
    acked = result["posts_acked"]
    result.update(
        database=kind,
        drafts=drafts,
        revisions=revisions,
        step_saved=events,
        # Every 303 is one save: each must be in the rows, and nothing unacknowledged either
        # (a save the shopper never heard about is the smaller harm, but still a miscount).
        lost=max(acked - revisions, 0),
        unacknowledged=max(revisions - acked, 0),
        server_errors=sum(v for k, v in result["statuses"].items() if k.split(":")[-1] >= "500"),
        server_log=(here / f"ours-{kind}.log").read_text(errors="replace")[-2000:],
    )
    result["ok"] = (
        result["lost"] == 0
        and revisions == events
        and result["server_errors"] == 0
        and not result["errors"]
        and "Traceback" not in result["server_log"]
    )
    return result


def bare(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    port = free_port()
    argv = [python(), str(Path(__file__).with_name("bare_app.py")), "--port", str(port)]
    server = Server(
        "bare", [*argv, "--host", "127.0.0.1"], port, folder, "/bare/demo-motors/payment"
    )
    try:
        return load("bare", server, args.connections, args)
    finally:
        server.stop()


def table(report: dict[str, Any]) -> str:
    base = report["bare"]
    lines = [
        f"resume issue #12 soak, {report['date']}, {report['machine']}",
        f"{report['connections']} shoppers at once, warm-up {report['warmup']} s, measured "
        f"{report['duration']} s; `resume serve` with its worker on core 0, generator on core 1",
        "",
        f"{'store':<11}{'steps/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'p99/bare':>9}{'acked':>8}"
        f"{'in rows':>8}{'lost':>6}{'5xx':>5}{'result':>8}",
        f"{'bare route':<11}{base['steps_per_s']:>9.0f}{base['p50_ms']:>8.1f}"
        f"{base['p99_ms']:>8.1f}{1:>9.2f}",
    ]
    for r in report["soaks"]:
        lines.append(
            f"{r['database']:<11}{r['steps_per_s']:>9.0f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
            f"{r['p99_ms'] / base['p99_ms']:>9.2f}{r['posts_acked']:>8}{r['revisions']:>8}"
            f"{r['lost']:>6}{r['server_errors']:>5}{'OK' if r['ok'] else 'FAIL':>8}"
        )
    lines += [
        "",
        "acked: saves answered 303; in rows: the sum of the shoppers' drafts' revisions (also",
        "checked against their step_saved events); lost: acknowledged but not in the rows.",
    ]
    for r in report["soaks"]:
        if not r["ok"]:
            lines += ["", f"{r['database']}: errors {r['errors'][:5]}", r["server_log"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgres"],
                        default=["sqlite", "postgres"])  # fmt: skip
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="folder for the table and the raw figures"
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="resume-soak-"))
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "connections": args.connections,
        "warmup": args.warmup,
        "duration": args.duration,
        "bare": bare(args, folder),
        "soaks": [soak(kind, args, folder) for kind in args.databases],
    }
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (args.results / f"soak-{stamp}.txt").write_text(text + "\n")
    (args.results / f"soak-{stamp}.json").write_text(json.dumps(report, indent=1))
    if not args.keep:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
    return 0 if all(r["ok"] for r in report["soaks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
