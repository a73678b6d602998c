"""Where a step's time goes in the real server: py-spy samples it under the bench's load.

    .venv-test/bin/pip install py-spy     # once
    .venv-test/bin/python bench/hotspots.py [--connections 128] [--duration 15]

Starts `resume serve` on a freshly seeded database (core 0), drives it with loadgen.py
(core 1), records the server with py-spy for the measured window (py-spy on core 1 too, in
its default mode: it pauses the server briefly per sample so stacks are whole; SQL run inside
SQLAlchemy's greenlets shows as stacks of their own), and prints: time by package (the frame
on top of the stack), the functions with the most self time, and the inclusive share of the
parts of a step. The raw stacks are kept in bench/results/ for flame graphs.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# What a sample's innermost frame belongs to: (component, file prefixes or suffixes).
COMPONENTS = (
    ("Jinja2 rendering (templates, jinja2, markupsafe)", ("jinja2/", "markupsafe/", ".html")),
    ("itsdangerous (sign, verify)", ("itsdangerous/", "hmac.py", "hashlib.py", "base64.py")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("aiosqlite + sqlite3 (incl. its worker thread)", ("aiosqlite/", "sqlite3/")),
    ("greenlet", ("greenlet/",)),
    ("resume.queries", ("resume/queries/",)),
    ("resume.autosave (the writer)", ("resume/autosave/",)),
    ("resume, the rest (web/, engine, fields, tokens)", ("resume/",)),
    ("Litestar", ("litestar/",)),
    ("uvicorn + h11 (HTTP)", ("uvicorn/", "h11/")),
    ("msgspec", ("msgspec/",)),
    ("asyncio loop, selectors, sockets", ("asyncio/", "selectors.py", "socket.py")),
    ("threads and queues (hand-off to aiosqlite)", ("threading.py", "queue.py", "concurrent/")),
    ("logging", ("logging/",)),
)

# Which part of the work a whole stack belongs to, outermost rule first that matches.
STAGES = (
    ("POST save_step (handler, till it awaits the writer)", ("save_step",)),
    # The lean GET (resume.web.lean_steps) renders its page after show_step returns.
    ("GET show_step (handler: verify, cache, sign, render)", ("show_step", "Visit.respond")),
    ("GET first page", ("first_step",)),
    ("bare route (parse, verify, render)", ("create_bare_app.<locals>.step",)),
    ("writer task (Autosave._run: plan, batch, commit)", ("Autosave._run",)),
    ("SQL inside greenlets (SQLAlchemy's sync side)", ("greenlet_spawn", "Connection.execute")),
    ("aiosqlite worker thread (sqlite3 calls)", ("_connection_worker_thread",)),
    ("uvicorn, App and Litestar around the handlers (routing, send)", ("run_asgi",)),
    ("uvicorn/h11 protocol (parse, transport)", ("H11Protocol.",)),
    ("event loop: select() (waiting or polling)", ("EpollSelector.select",)),
    ("event loop: other callbacks", ("_run_once",)),
)


# Functions whose inclusive share answers "what does this piece cost": (label, name, file part).
NAMED = (
    ("Visit.render (template lookup + render + Response)", "Visit.render", "resume/web/visit.py"),
    ("  Environment.select_template (3 misses, then form.html)", "select_template", "jinja2/"),
    ("  Template.render", "Template.render", "jinja2/"),
    ("Signer.verify_form (POST and GET)", "Signer.verify_form", "resume/tokens.py"),
    ("Signer.sign_form (redirect and page)", "Signer.sign_form", "resume/tokens.py"),
    ("parse_form", "parse_form", "resume/web/forms.py"),
    ("validate (the 7 fields)", "validate", "resume/engine.py"),
    ("services.dealer (cached)", "Services.dealer", "resume/web/services.py"),
    ("Autosave.state (cache hit or read)", "Autosave.state", "resume/autosave/__init__.py"),
    ("Autosave.record_view", "Autosave.record_view", "resume/autosave/__init__.py"),
    ("widget_headers", "widget_headers", "resume/web/security.py"),
    ("Autosave._commit (the batch, handed to the writer thread)", "Autosave._commit", "autosave/"),
    ("  drafts.lock", "lock", "resume/queries/drafts.py"),
    ("  drafts.load_values", "load_values", "resume/queries/drafts.py"),
    ("  _plan", "_plan", "resume/autosave/plan.py"),
    ("  drafts.upsert_values", "upsert_values", "resume/queries/drafts.py"),
    ("  drafts.insert_events", "insert_events", "resume/queries/drafts.py"),
    ("  drafts.update_drafts", "update_drafts", "resume/queries/drafts.py"),
    ("SQLAlchemy Connection.execute (greenlet side)", "Connection.execute", "sqlalchemy/"),
    ("call_soon_threadsafe wake-ups (_write_to_self)", "_write_to_self", "asyncio/"),
    ("Litestar response start/send (ASGIResponse.__call__)", "ASGIResponse.__call__", "litestar/"),
    ("h11 parsing (H11Protocol.handle_events)", "H11Protocol.handle_events", "uvicorn/"),
    ("uvicorn RequestResponseCycle.send", "RequestResponseCycle.send", "uvicorn/"),
)


def idle_leaves() -> set[tuple[str, str]]:
    """Leaf frames of threads that are waiting, not working (py-spy reports them anyway)."""
    import aiosqlite.core

    source = Path(aiosqlite.core.__file__).read_text().splitlines()
    get_line = next(i for i, text in enumerate(source, 1) if "tx.get()" in text)
    return {("_connection_worker_thread", f"aiosqlite/core.py:{get_line}")}


IDLE_FUNCS = {"Condition.wait", "Queue.get", "SimpleQueue.get", "Event.wait"}


def component_of(path: str) -> str:
    path = path.rsplit(":", 1)[0]
    for name, marks in COMPONENTS:
        if any(path.startswith(m) or path.endswith(m) or f"/{m}" in path for m in marks):
            return name
    return "other: " + path.split("/", 1)[0]


def stage_of(frames: list[tuple[str, str]]) -> str:
    names = [f for f, _ in frames]
    for label, marks in STAGES:
        if any(n == m or n.endswith("." + m) or n.startswith(m) for n in names for m in marks):
            return label
    return "other"


def parse(raw: Path) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        frames_text, _, count = line.rpartition(" ")
        frames = []
        for frame in frames_text.split(";"):
            m = FRAME.match(frame.strip())
            if m is None:
                frames.append((frame.strip(), ""))
            else:
                line_no = f":{m['line']}" if m["line"] else ""
                frames.append((m["func"], m["file"] + line_no))
        stacks.append((frames, int(count)))
    return stacks


def report(stacks: list[tuple[list[tuple[str, str]], int]], top: int = 25) -> str:
    idle = idle_leaves()
    waiting = sum(c for f, c in stacks if f[-1] in idle or f[-1][0] in IDLE_FUNCS)
    stacks = [(f, c) for f, c in stacks if f[-1] not in idle and f[-1][0] not in IDLE_FUNCS]
    total = sum(count for _, count in stacks) or 1
    components: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    by_self: collections.Counter[str] = collections.Counter()
    by_total: collections.Counter[str] = collections.Counter()
    named: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        real = [f for f in frames if f[1]] or frames
        func, file = real[-1]
        components[component_of(file)] += count
        stages[stage_of(real)] += count
        by_self[f"{func} ({file.rsplit(':', 1)[0]})"] += count
        # Once a stack each, in stack order (not a set's): the same raw file, the same report.
        for key in dict.fromkeys(f"{f} ({p.rsplit(':', 1)[0]})" for f, p in real):
            by_total[key] += count
        for label, name, part in NAMED:
            if any((f == name or f.endswith("." + name)) and part in p for f, p in real):
                named[label] += count

    def pct(n: int) -> str:
        return f"{n / total * 100:5.1f}%"

    lines = [
        f"{total} samples of the server's threads at work ({waiting} more of threads waiting on "
        "a queue or lock were left out; a sample in select() is the event loop waiting or "
        "polling)",
        "",
    ]
    lines += ["time by part of the work (whole stack):"]
    lines += [f"  {pct(n)}  {name}" for name, n in stages.most_common()]
    lines += ["", "inclusive share of named pieces:"]
    lines += [f"  {pct(named[label])}  {label}" for label, _, _ in NAMED]
    lines += ["", "time by component (innermost Python frame):"]
    lines += [f"  {pct(n)}  {name}" for name, n in components.most_common()]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {pct(n)}  {name}" for name, n in by_self.most_common(top)]
    lines += ["", f"top {top * 2} functions by inclusive time:"]
    lines += [f"  {pct(n)}  {name}" for name, n in by_total.most_common(top * 2)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples a second")
    parser.add_argument("--bare", action="store_true", help="profile the baseline instead")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL: Python CPU time, without time spent "
        "waiting for the GIL (sqlite's own C work, done without the GIL, is left out)",
    )
    parser.add_argument("--from-raw", type=Path, help="only print the report of a saved profile")
    parser.add_argument(
        "--results", type=Path, default=run.RESULTS, help="folder for the raw stacks and report"
    )
    args = parser.parse_args(argv)
    if args.from_raw:
        print(report(parse(args.from_raw)))
        return 0
    if args.duration < 2:
        # py-spy records a whole number of seconds, one less than the window; 0 means forever.
        raise SystemExit("--duration takes 2 s or more")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv-test/bin/pip install py-spy")

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = ("bare" if args.bare else "ours") + ("-gil" if args.gil else "")
    raw = args.results / f"profile-{kind}-{stamp}.txt"
    folder = Path(tempfile.mkdtemp(prefix="resume-hotspots-"))
    try:
        port = run.free_port()
        env = run.server_env(port, folder)
        if args.bare:
            argv_server = [run.python(), str(run.BENCH / "bare_app.py")]
            ready = "/bare/demo-motors/payment"
        else:
            subprocess.run([run.python(), "-m", "resume", "demo"], env=env, cwd=folder, check=True)
            argv_server = [run.python(), "-m", "resume", "serve", "--no-worker"]
            ready = "/healthz"
        argv_server += ["--host", "127.0.0.1", "--port", str(port)]
        server = run.Server("server", argv_server, port, folder, ready)
        try:
            loadgen = subprocess.Popen(
                ["taskset", "-c", run.LOADGEN_CORE, run.python(), str(run.BENCH / "loadgen.py")]
                + ["--mode", "bare" if args.bare else "resume", "--port", str(port)]
                + ["--connections", str(args.connections), "--warmup", str(args.warmup)]
                + ["--duration", str(args.duration), "--server-pid", str(server.proc.pid)],
                stdout=subprocess.PIPE,
            )
            time.sleep(args.warmup)
            subprocess.run(
                ["taskset", "-c", run.LOADGEN_CORE, spy, "record"]
                + ["--pid", str(server.proc.pid), "--duration", str(int(args.duration) - 1)]
                + ["--rate", str(args.rate), "--format", "raw", "--output", str(raw)]
                + (["--gil"] if args.gil else []),
                check=True,
                capture_output=True,
            )
            out, _ = loadgen.communicate(timeout=args.duration + 120)
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = run.json.loads(out)
    print(
        f"under profiling: {result['steps_per_s']:.0f} steps/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu'] * 100:.0f}%, "
        f"responses {result['statuses']}"
    )
    for error in result["errors"][:3]:
        print("  error:", error)
    text = report(parse(raw))
    print(text)
    raw.with_name(raw.stem + "-report.txt").write_text(text + "\n")
    print(f"\nraw stacks: {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
