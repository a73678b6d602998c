"""The Django + django-formtools peer figure (bench/README.md, "Peer figure").

    bench/django_peer/run.sh              # from the repository root: venv if needed, then this

For each concurrency it makes a fresh SQLite file (`manage.py migrate`: the sessions table),
starts the peer pinned to core 0 (one process, DEBUG off, no access log), runs
loadgen_django.py pinned to core 1 after a warm-up, stops the server with SIGTERM and counts
the sessions stored. Prints a table like bench/run.py's and writes it, with the raw figures,
to bench/django_peer/results/ (git-ignored by the .gitignore beside this file).

Servers (`--server`): `gthread` (default) is gunicorn, 1 worker, its gthread worker class
with 1 thread: WSGI as Django is usually deployed, and keep-alive like ours. `sync` is
gunicorn's sync worker (no keep-alive: a connection per request). `uvicorn` runs Django's
ASGI application under the same uvicorn as ours (httptools, uvloop).

It runs with any Python 3.11+; the servers run with --venv's interpreter (Django,
django-formtools, gunicorn, uvicorn installed there, never in the project's .venv-test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run import (  # noqa: E402  (bench/run.py: the same helpers as the main benchmark)
    LOADGEN_CORE,
    SERVER_CORE,
    free_port,
    machine,
    others,
    per_cpu_second,
    wait_for_quiet,
)

RESULTS = HERE / "results"


def server_argv(kind: str, venv: Path, port: int) -> list[str]:
    bind = ["--log-level", "warning"]
    if kind == "uvicorn":
        return [
            str(venv / "bin" / "uvicorn"), "peer.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            "--loop", "uvloop", "--http", "httptools", "--backlog", "2048", *bind,
        ]  # fmt: skip
    worker = ["-k", "gthread", "--threads", "1"] if kind == "gthread" else ["-k", "sync"]
    return [
        str(venv / "bin" / "gunicorn"), "peer.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", *worker,
        "--backlog", "2048", "--keep-alive", "5", "--worker-connections", "1000", *bind,
    ]  # fmt: skip


class Server:
    def __init__(self, args: argparse.Namespace, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *server_argv(args.server, args.venv, port)],
            env=peer_env(args, folder),
            cwd=HERE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited early; see {folder / 'server.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/wizard/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not answer on port {port} within 60 s")

    def worker_pid(self) -> int:
        """The process that serves requests: gunicorn's one worker, or uvicorn itself."""
        if "gunicorn" not in self.proc.args[3]:
            return self.proc.pid
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        if len(children) != 1:
            raise SystemExit(f"expected one gunicorn worker, found {children}")
        return int(children[0])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def peer_env(args: argparse.Namespace, folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="peer.settings", PEER_DB=str(folder / "peer.sqlite3"))
    env["PEER_SQLITE_WAL"] = "1" if args.sqlite_wal else "0"
    env.pop("PYTHONPATH", None)
    return env


def run_row(connections: int, args: argparse.Namespace, top: Path) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"peer-{connections}-", dir=top))
    migrated = subprocess.run(
        [str(args.venv / "bin" / "python"), "manage.py", "migrate", "-v0"],
        env=peer_env(args, folder),
        cwd=HERE,
        capture_output=True,
        check=False,
    )
    if migrated.returncode != 0:
        raise SystemExit(f"migrate failed:\n{migrated.stderr.decode()}")
    port = free_port()
    server = Server(args, port, folder)
    try:
        argv = [
            "taskset", "-c", LOADGEN_CORE, sys.executable, str(HERE / "loadgen_django.py"),
            "--port", str(port), "--connections", str(connections),
            "--view", args.view, "--loop", args.loop,
            "--warmup", str(args.warmup), "--duration", str(args.duration),
            "--server-pid", str(server.worker_pid()),
        ]  # fmt: skip
        out = subprocess.run(argv, capture_output=True, check=False, timeout=args.duration + 300)
        if out.returncode != 0:
            raise SystemExit(f"load generator failed:\n{out.stderr.decode()}")
        result: dict[str, Any] = json.loads(out.stdout)
    finally:
        result_code = server.stop()
    result["server_exit"] = result_code
    with sqlite3.connect(folder / "peer.sqlite3") as conn:
        (result["sessions"],) = conn.execute("SELECT count(*) FROM django_session").fetchone()
        (result["journal_mode"],) = conn.execute("PRAGMA journal_mode").fetchone()
    return result


def server_pid_note(args: argparse.Namespace) -> str:
    if args.server == "uvicorn":
        return "uvicorn (ASGI, httptools + uvloop), 1 process"
    return f"gunicorn {args.server} worker, 1 worker (its master process is idle)"


def table(report: dict[str, Any]) -> str:
    a = report["args"]
    lines = [
        f"Django + django-formtools peer, {report['date']}, {report['machine']}",
        f"{report['versions']}",
        f"server: {report['server_note']}; view {a['view']}, loop {a['loop']}; SQLite "
        f"{'WAL + synchronous=NORMAL' if a['sqlite_wal'] else 'defaults (rollback journal)'}",
        f"warm-up {a['warmup']} s, measured {a['duration']} s per row; server on core 0, "
        "load generator on core 1",
        "a step = POST of step 1 (7 fields) + whatever shows step 2; "
        + ("each loop also posts Back (wizard_goto_step) to return to step 1"
           if a["loop"] == "goto" else "the next step 1 is posted from the step-2 page"),
        "",
        f"{'server':<8}{'conns':>6}{'steps/s':>9}{'req/s':>7}{'p50 ms':>8}{'p90 ms':>8}"
        f"{'p99 ms':>8}{'srv CPU':>8}{'steps/CPU-s':>12}{'gen CPU':>8}{'others':>7}{'errors':>7}",
    ]  # fmt: skip
    for r in report["rows"]:
        errors = len(r["errors"]) + sum(
            v for k, v in r["statuses"].items() if not k.endswith((":200", ":302"))
        )
        srv = f"{r['server_cpu'] * 100:.0f}%" if r["server_cpu"] is not None else "-"
        lines.append(
            f"{'django':<8}{r['connections']:>6}{r['steps_per_s']:>9.0f}"
            f"{r['requests_per_s']:>7.0f}{r['p50_ms']:>8.1f}{r['p90_ms']:>8.1f}{r['p99_ms']:>8.1f}"
            f"{srv:>8}{per_cpu_second(r):>12.0f}{r['loadgen_cpu'] * 100:>7.0f}%"
            f"{others(r) * 100:>6.0f}%{errors:>7}"
        )
    lines.append("")
    for r in report["rows"]:
        lines.append(
            f"at {r['connections']}: step-1 POSTs sent {r['posts_sent']}, accepted "
            f"{r['posts_acked']}; {r['drafts_started']} wizards opened, {r['sessions']} sessions "
            f"stored (journal_mode {r['journal_mode']}); server exit {r['server_exit']}"
            + (f"; errors: {r['errors'][:3]}" if r["errors"] else "")
        )
    return "\n".join(lines)


def versions(venv: Path) -> str:
    code = (
        "import django, formtools, gunicorn, uvicorn, sqlite3, platform;"
        "print(f'Django {django.get_version()}, django-formtools {formtools.__version__}, "
        "gunicorn {gunicorn.__version__}, uvicorn {uvicorn.__version__}, "
        "SQLite {sqlite3.sqlite_version}, CPython {platform.python_version()}')"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{venv} lacks django / django-formtools / gunicorn / uvicorn; "
                         "bench/django_peer/run.sh creates it")  # fmt: skip
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--server", choices=("gthread", "sync", "uvicorn"), default="gthread")
    parser.add_argument("--view", choices=("session", "named"), default="session")
    parser.add_argument("--loop", choices=("goto", "repost"), default="goto")
    parser.add_argument(
        "--sqlite-wal", action="store_true", help="WAL + synchronous=NORMAL (resume's setting)"
    )
    parser.add_argument("--venv", type=Path, default=Path("/tmp/django-bench"))
    parser.add_argument("--quiet-wait", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="folder for the table and the raw figures"
    )
    args = parser.parse_args(argv)
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        raise SystemExit("needs taskset and two cores (server on 0, load generator on 1)")
    if not (0 < args.duration <= 120 and 0 <= args.warmup <= 30):
        raise SystemExit("--duration up to 120 s, --warmup up to 30 s")
    report_versions = versions(args.venv)
    top = Path(tempfile.mkdtemp(prefix="django-peer-"))
    rows = []
    try:
        for conns in args.connections:
            print(f"django, {conns} connections ...", file=sys.stderr, flush=True)
            before = wait_for_quiet(args.quiet_wait)
            result = run_row(conns, args, top)
            result["busy_before"] = before
            rows.append(result)
    finally:
        if args.keep:
            print(f"kept {top}", file=sys.stderr)
        else:
            shutil.rmtree(top, ignore_errors=True)
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": report_versions,
        "server_note": server_pid_note(args),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "rows": rows,
    }
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{args.server}-{args.view}-{args.loop}{'-wal' if args.sqlite_wal else ''}"
    (args.results / f"{name}.json").write_text(json.dumps(report, indent=2))
    (args.results / f"{name}.txt").write_text(text + "\n")
    bad = any(r["errors"] or r["posts_acked"] != r["posts_sent"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
