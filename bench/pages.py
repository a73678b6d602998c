"""Issue #10's benchmark: the numbers pages, server-side p50 and p99, at 10,000 and at
1,000,000 drafts, on SQLite and PostgreSQL.

    .venv-test/bin/python bench/pages.py                        # SQLite, 10k and 1M seeded here
    .venv-test/bin/python bench/pages.py --postgres             # and PostgreSQL
    .venv-test/bin/python bench/pages.py --seeded a.json ...    # databases bench/seed.py kept

Each database is seeded by bench/seed.py (20 dealerships, a year of drafts) or taken from the
manifests of `bench/seed.py --keep --manifest`. Then `python -m resume serve --no-worker` runs
on core 0 (taskset), the manager covering the 20 dealerships gets a fresh invitation
(`python -m resume staff invite`), accepts it over HTTP (password, TOTP with pyotp) and signs
in; from core 1, on one keep-alive connection, one request at a time, after a warm-up
(bench/dashboard.py's Session.measure):

- list: /dashboard/leads?status=new&widget=payment&exit=numbers&sort=age, the first page;
- page200: the same list's 200th page, reached by following "Next page" 199 times (or its
  last page, if it has fewer), then timed;
- lead: /dashboard/leads/{id}, a different lead each time, across the dealerships;
- funnel1 / funnel5: /dashboard/funnel?widget=payment, the last 90 days, one dealership /
  five (`dealers=a,b,c,d,e`);
- team1 / team5: /dashboard/team, the last 90 days, one store / five (`store=ID` each);
- csv: /dashboard/leads.csv for the one dealership (or all) whose lead count is nearest
  10,000: rows a second.

Then the SQL behind each page: a second server, not timed, with a hook (a sitecustomize.py
written into this run's folder) that keeps every statement and its parameters; each page is
fetched once, and each SELECT it ran is timed alone (median of 5) and explained (SQLite
EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN ANALYZE). The slowest pages' slowest statements are
printed with their plans. A table per database (p50/p99 at each size, the ratio of the
largest to the smallest) goes to bench/results/pages-<timestamp>.txt, with everything in
.json (git-ignored). Exits 1 if any response was not a 200 (the sign-in's POSTs: 303).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import os
import pickle
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import dashboard as dash
import run
import seed
from sqlalchemy import select

from resume.db import Database
from resume.settings import Settings
from resume.tables import leads

PAGES = ("list", "page200", "lead", "funnel1", "funnel5", "team1", "team5", "csv")
TITLES = {
    "list": "lead list, filtered, first page",
    "page200": "lead list, filtered, page 200 (keyset)",
    "lead": "lead page, varied leads",
    "funnel1": "funnel, 1 dealership, 90 days",
    "funnel5": "funnel, 5 dealerships, 90 days",
    "team1": "team, 1 store, 90 days",
    "team5": "team, 5 stores, 90 days",
    "csv": "CSV export (~10k rows)",
}
FILTERED = {"status": "new", "widget": "payment", "exit": "numbers", "sort": "age"}
DEPTH = 200
RANGE_DAYS = 90
CSV_ROWS = 10_000
TARGET_P50, TARGET_P99, TARGET_RATIO = 50.0, 200.0, 2.0
# Kept in the capture server's own folder: every statement it runs, with its parameters.
CAPTURE = """
import os, pickle, threading
from sqlalchemy import event
from sqlalchemy.engine import Engine

_lock = threading.Lock()
_out = open(os.environ["BENCH_SQL_CAPTURE"], "ab")


@event.listens_for(Engine, "before_cursor_execute")
def _keep(conn, cursor, statement, parameters, context, executemany):
    with _lock:
        pickle.dump((statement, parameters), _out)
        _out.flush()
"""


class Pages(dash.Session):
    """The signed-in manager's browser and the pages it times."""

    def __init__(self, browser: dash.Browser, manifest: dict[str, Any], args: Any, pid: int,
                 lead_ids: list[int]) -> None:  # fmt: skip
        super().__init__(browser, "", lead_ids, args, pid)
        group = manifest["dealers"]
        today = dt.datetime.now(dt.UTC).date()
        span = {
            "from": (today - dt.timedelta(days=RANGE_DAYS - 1)).isoformat(),
            "to": today.isoformat(),
        }
        self.urls = {
            "list": "/dashboard/leads?" + urlencode(FILTERED),
            "funnel1": "/dashboard/funnel?"
            + urlencode({"widget": "payment", **span, "dealers": group[1]["slug"]}),
            "funnel5": "/dashboard/funnel?"
            + urlencode(
                {"widget": "payment", **span, "dealers": ",".join(d["slug"] for d in group[1:6])}
            ),
            "team1": "/dashboard/team?" + urlencode({**span, "store": group[1]["id"]}),
            "team5": "/dashboard/team?"
            + urlencode([*span.items(), *(("store", d["id"]) for d in group[1:6])]),
        }
        # The export: the dealership (or all of them) whose leads are nearest 10,000.
        choices = [("", sum(d["leads"] for d in group))] + [(d["slug"], d["leads"]) for d in group]
        slug, self.csv_expected = min(choices, key=lambda c: abs(c[1] - CSV_ROWS))
        self.urls["csv"] = "/dashboard/leads.csv" + (f"?dealer={slug}" if slug else "")
        self.csv_rows: list[int] = []

    def find_page200(self) -> None:
        url, depth = self.urls["list"], 1
        while depth < DEPTH:
            found = dash.NEXT.search(self.b.request("walk GET", "GET", url).text)
            if not found:
                break
            url, depth = html.unescape(found[1]), depth + 1
        self.urls["page200"], self.depth = url, depth

    def page(self, key: str) -> Any:
        return lambda: self.get(f"{key} GET", self.urls[key])

    def csv(self) -> float:
        started = time.perf_counter()
        reply = self.b.request("csv GET", "GET", self.urls["csv"])
        took = time.perf_counter() - started
        self.csv_rows.append(max(0, reply.body.count(b"\n") - 1))
        return took


def backend_of(manifest: dict[str, Any]) -> dash.Backend:
    backend = dash.Backend(
        manifest["name"], manifest["url"], Path(manifest["folder"]), run.free_port(), False
    )
    backend.dealer_ids = {d["slug"]: d["id"] for d in manifest["dealers"]}
    return backend


def fresh_invitation(backend: dash.Backend) -> str:
    found = dash.INVITATION.search(backend.done(backend.cli("staff", "invite", seed.MANAGER)))
    if not found:
        raise SystemExit("resume staff invite printed no invitation")
    return urlsplit(found[1]).path


async def lead_sample(settings: Settings, count: int) -> list[int]:
    db = Database(settings)
    try:
        async with db.read() as conn:
            ids = list(
                (await conn.execute(select(leads.c.id).where(leads.c.demo.is_(False)))).scalars()
            )
    finally:
        await db.dispose()
    random.Random(20).shuffle(ids)
    return ids[:count]


def signed_in(backend: dash.Backend, browser: dash.Browser) -> None:
    secret, used = dash.accept(browser, fresh_invitation(backend))
    browser.cookies.clear()
    dash.sign_in(browser, seed.MANAGER, secret, used)


def measure(manifest: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Time every page on one seeded database."""
    backend = backend_of(manifest)
    lead_ids = asyncio.run(lead_sample(backend.settings, 500))
    server = dash.Server(backend)
    browser = dash.Browser(backend.port)
    affinity = os.sched_getaffinity(0)
    try:
        signed_in(backend, browser)
        os.sched_setaffinity(0, {int(dash.CLIENT_CORE)})
        session = Pages(browser, manifest, args, server.proc.pid, lead_ids)
        session.find_page200()
        for key in PAGES:
            dash.progress(f"  {manifest['name']} {manifest['drafts']:,}: measuring {key} ...")
            if key == "lead":
                op = session.lead
            elif key == "csv":
                op = session.csv
            else:
                op = session.page(key)
            session.measure(key, op, args.duration)
        dash.progress("", done=True)
    finally:
        os.sched_setaffinity(0, affinity)
        browser.close()
        exit_code = server.stop()
    rows = {key: dash.figures(session.rows[key]) for key in PAGES if key in session.rows}
    csv = rows.get("csv")
    if csv and session.csv_rows:
        csv["rows"] = statistics.median(session.csv_rows)
        csv["rows_per_s"] = csv["rows"] / (csv["p50_ms"] / 1000) if csv["p50_ms"] else 0.0
    return {
        "rows": rows,
        "depth": session.depth,
        "urls": session.urls,
        "statuses": dict(browser.statuses),
        "errors": browser.errors,
        "server_exit": exit_code,
    }


def capture(manifest: dict[str, Any], urls: dict[str, str], lead_id: int) -> dict[str, list]:
    """Fetch each page once from an untimed server that keeps its SQL; return each page's
    statements and parameters."""
    backend = backend_of(manifest)
    hook = backend.folder / "capture"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(CAPTURE)
    log = backend.folder / "statements.pickle"
    log.unlink(missing_ok=True)
    backend.env["PYTHONPATH"] = f"{hook}{os.pathsep}{backend.env['PYTHONPATH']}"
    backend.env["BENCH_SQL_CAPTURE"] = str(log)
    server = dash.Server(backend)
    browser = dash.Browser(backend.port)
    found: dict[str, list] = {}
    try:
        signed_in(backend, browser)
        pages = {**urls, "lead": f"/dashboard/leads/{lead_id}"}
        for key in PAGES:
            before = log.stat().st_size
            browser.request(key, "GET", pages[key])
            with open(log, "rb") as f:
                f.seek(before)
                kept = []
                while True:
                    try:
                        kept.append(pickle.load(f))
                    except EOFError:
                        break
            found[key] = [s for s in kept if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    finally:
        browser.close()
        server.stop()
    return found


async def explain(manifest: dict[str, Any], statements: dict[str, list]) -> dict[str, list]:
    """Each page's SELECTs, timed alone (median of 5) and explained, slowest first."""
    db = Database(backend_of(manifest).settings)
    out: dict[str, list] = {}
    try:
        for key, found in statements.items():
            entries = []
            seen = set()
            for statement, parameters in found:
                if (statement, repr(parameters)) in seen:
                    continue
                seen.add((statement, repr(parameters)))
                async with db.read() as conn:
                    took = []
                    for _ in range(5):
                        started = time.perf_counter()
                        (await conn.exec_driver_sql(statement, parameters)).all()
                        took.append(time.perf_counter() - started)
                    if db.is_sqlite:
                        plan = dash._tree(
                            (
                                await conn.exec_driver_sql(
                                    "EXPLAIN QUERY PLAN " + statement, parameters
                                )
                            ).all()
                        )
                    else:
                        plan = [
                            r[0]
                            for r in (
                                await conn.exec_driver_sql(
                                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                                )
                            ).all()
                        ]
                entries.append(
                    {
                        "sql": statement,
                        "parameters": [str(p) for p in (parameters or ())],
                        "ms": statistics.median(took) * 1000,
                        "plan": plan,
                    }
                )
            entries.sort(key=lambda e: -e["ms"])
            out[key] = entries
    finally:
        await db.dispose()
    return out


def squeeze(plan: list[str]) -> list[str]:
    """A plan's lines, each repeated line (a subquery per OR branch) shown once, xN."""
    seen: dict[str, int] = {}
    for line in plan:
        seen[line] = seen.get(line, 0) + 1
    return [f"{line}  (x{n})" if n > 1 else line for line, n in seen.items()]


def ratio(big: float, small: float) -> float:
    return big / small if small else 0.0


def table(report: dict[str, Any]) -> str:
    lines = [
        f"resume numbers pages benchmark (issue #10), {report['date']}, {report['machine']}",
        f"warm-up {report['warmup']} s, measured {report['duration']} s per page; one "
        "keep-alive connection, one request at a time; server on core 0, client on core 1",
        f"targets at the largest size: p50 <= {TARGET_P50:.0f} ms, p99 <= {TARGET_P99:.0f} ms, "
        f"<= {TARGET_RATIO:.0f}x the smallest size's time",
    ]
    for name, runs in report["databases"].items():
        runs = sorted(runs, key=lambda r: r["drafts"])
        small, big = runs[0], runs[-1]
        lines += ["", f"{name}:"]
        for r in runs:
            t = r.get("timings", {})
            lines.append(
                f"  {r['drafts']:,} drafts: "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(r.get("seeded_rows", {}).items()))
                + (
                    f"; seeded in {t.get('seed_s', 0):.0f} s, indexes {t.get('indexes_s', 0):.0f}"
                    f" s, funnel recounted in {t.get('recount_s', 0):.0f} s"
                    if t
                    else ""
                )
                + f"; page 200 is page {r['depth']}"
            )
        head = f"{'page':<40}"
        for r in runs:
            head += f"{r['drafts']:>10,} p50/p99 ms  "
        head += f"{'ratio p50/p99':>14}  {'srv CPU':>8} {'SQL':>7}  verdict"
        lines.append(head)
        for key in PAGES:
            line = f"{TITLES[key]:<40}"
            for r in runs:
                f = r["rows"].get(key, {})
                line += f"{f.get('p50_ms', 0):>12.1f} / {f.get('p99_ms', 0):<8.1f}"
            fb, fs = big["rows"].get(key, {}), small["rows"].get(key, {})
            r50 = ratio(fb.get("p50_ms", 0), fs.get("p50_ms", 0))
            r99 = ratio(fb.get("p99_ms", 0), fs.get("p99_ms", 0))
            line += f"{r50:>7.2f} / {r99:<6.2f}"
            sql = sum(e["ms"] for e in big.get("plans", {}).get(key, []))
            line += f"  {fb.get('server_cpu_ms', 0):>6.1f}ms {sql:>5.1f}ms"
            if key == "csv":
                per = [
                    f"{r['rows'].get('csv', {}).get('rows', 0):,.0f} rows "
                    f"{r['rows'].get('csv', {}).get('rows_per_s', 0):,.0f}/s"
                    for r in runs
                ]
                line += "  " + "; ".join(per)
            else:
                missed = []
                if fb.get("p50_ms", 0) > TARGET_P50:
                    missed.append("p50")
                if fb.get("p99_ms", 0) > TARGET_P99:
                    missed.append("p99")
                if len(runs) > 1 and r50 > TARGET_RATIO:
                    missed.append("ratio")
                line += "  " + ("MISSED " + ",".join(missed) if missed else "ok")
            if fb.get("failed"):
                line += f"  FAILED: {fb['failed']}"
            lines.append(line)
        lines.append(
            f"srv CPU: the server process's CPU time per request, SQL: the page's SELECTs each "
            f"run alone, summed (both at {big['drafts']:,} drafts)"
        )
        lines.append(
            "responses: "
            + "; ".join(
                f"{r['drafts']:,}: "
                + ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
                for r in runs
            )
        )
        # The slowest pages at the largest size: their slowest statements, explained.
        slow = sorted(
            (k for k in PAGES if k in big["rows"]),
            key=lambda k: -big["rows"][k]["p50_ms"] / (10 if k == "csv" else 1),
        )[:3]
        lines.append(
            f"the slowest pages at {big['drafts']:,} drafts, their slowest statements ("
            + ("EXPLAIN QUERY PLAN" if name == "sqlite" else "EXPLAIN ANALYZE")
            + "; ms: the statement alone, median of 5):"
        )
        for key in slow:
            lines.append(f"  {TITLES[key]} (p50 {big['rows'][key]['p50_ms']:.1f} ms):")
            for entry in big.get("plans", {}).get(key, [])[:3]:
                lines.append(f"    {entry['ms']:.2f} ms: {dash.short_sql(entry['sql'])[:400]}")
                lines += [f"      {line}" for line in squeeze(entry["plan"])[:24]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="drafts, comma-separated")
    parser.add_argument(
        "--postgres", nargs="?", const=dash.PG_SERVER, default="",
        help=f"also on fresh databases on this PostgreSQL server (default {dash.PG_SERVER})",
    )  # fmt: skip
    parser.add_argument(
        "--seeded", type=Path, action="append", default=[],
        help="a manifest from bench/seed.py --keep --manifest (repeatable): measure that "
        "database instead of seeding one (it is kept)",
    )  # fmt: skip
    parser.add_argument("--no-sqlite", action="store_true", help="seed no SQLite databases")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per page")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of warm-up per page")
    parser.add_argument(
        "--quiet-wait", type=float, default=10.0,
        help="before each page, wait up to this long for other work on the machine to stop",
    )  # fmt: skip
    parser.add_argument("--no-plans", action="store_true", help="skip the query plans")
    parser.add_argument("--keep", action="store_true", help="keep the databases it seeds")
    parser.add_argument("--results", type=Path, default=run.RESULTS)
    args = parser.parse_args(argv)
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        raise SystemExit("needs taskset and two cores (server on 0, client on 1)")

    jobs: list[tuple[str, Any]] = [("manifest", json.loads(p.read_text())) for p in args.seeded]
    if not args.seeded:
        sizes = [int(s) for s in args.sizes.split(",") if s]
        kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
        jobs = [("seed", (kind, size)) for kind in kinds for size in sizes]
    databases: dict[str, list[dict[str, Any]]] = {}
    ok = True
    for how, what in jobs:
        if how == "seed":
            kind, size = what
            print(f"{kind}: seeding {size:,} drafts ...", file=sys.stderr, flush=True)
            manifest = seed.seed_one(kind, size, args.postgres or dash.PG_SERVER)
        else:
            manifest = what
        try:
            result = measure(manifest, args)
            if not args.no_plans:
                sample = asyncio.run(lead_sample(backend_of(manifest).settings, 1))
                statements = capture(manifest, result["urls"], sample[0])
                result["plans"] = asyncio.run(explain(manifest, statements))
        finally:
            if how == "seed" and not args.keep:
                seed.discard(manifest)
        good = (
            not result["errors"]
            and set(result["rows"]) == set(PAGES)
            and all(not r["failed"] and r["count"] > 0 for r in result["rows"].values())
            and all(k.endswith(":200") or k == "setup:303" for k in result["statuses"])
        )
        ok = ok and good
        databases.setdefault(manifest["name"], []).append(
            {
                "drafts": manifest["drafts"],
                "seeded_rows": manifest["rows"],
                "timings": manifest["timings"],
                "dealers": manifest["dealers"],
                **result,
                "ok": good,
            }
        )
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": run.machine(),
        "warmup": args.warmup,
        "duration": args.duration,
        "databases": databases,
    }
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.results / f"pages-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (args.results / f"pages-{stamp}.txt").write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
