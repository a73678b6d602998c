"""Smoke runs of every script in bench/, so that no benchmark silently rots.

Each script runs as its README says, from the repository root with this interpreter, for
about a second of measuring: it must finish, exit 0, print its table, and its own checks
must hold (the rows stored equal the saves acknowledged, every message went exactly once,
every step of the peer was accepted). No figure is asserted: one second on a shared machine
measures nothing, and a slow run is not a broken one.

Which test runs which script:

- test_steps_benchmark_loses_no_write: bench/run.py, and through it loadgen.py (the
  shoppers), canned_server.py (the generator's ceiling) and bare_app.py (the baseline);
- test_batches_counts_every_save_in_a_transaction: bench/batches.py;
- test_hotspots_profiles_the_server_under_load: bench/hotspots.py (with py-spy), then its
  --from-raw report of the stacks it kept;
- test_outbox_benchmark_sends_every_message_exactly_once: bench/outbox.py, and through it
  outbox_raw.py (the raw loop) and smtp_sink.py (the counting SMTP server);
- test_django_peer_accepts_every_step: bench/django_peer/run.sh, and through it run.py,
  loadgen_django.py, manage.py (migrate) and the peer/ project under gunicorn;
- test_dashboard_benchmark_answers_every_page: bench/dashboard.py (SQLite only: its
  PostgreSQL half is the same code on another URL, and would double the run);
- test_soak_loses_no_acknowledged_save: bench/soak.py, on SQLite and PostgreSQL (each with
  `resume serve` and its worker, as installed), with run.py's bare route as the baseline;
- test_numbers_pages_benchmark_answers_every_page: bench/pages.py, and through it seed.py
  (SQLite only, a tiny seed).
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, PG_HOST, ROOT, _pg_admin, run

pytestmark = pytest.mark.slow

# About a second of measuring after half a second of warm-up, never waiting for a quiet
# machine: a smoke run checks that the script works, not how fast.
SHORT = ("--connections", "8", "--warmup", "0.5", "--duration", "1")
NO_WAIT = ("--quiet-wait", "0")
# Enough that each of outbox.py's four workers surely claims a batch of its own (the row's
# check), even on a busy machine: about a second for the four, two for one.
OUTBOX_MESSAGES = 120
# The peer's run.sh makes Django's virtualenv on first use (PEER_VENV, /tmp/django-bench by
# default) and reuses it after, as a developer's run does; the first run installs from PyPI.
PEER_FIRST_RUN_SECONDS = 600


def bench(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a bench command from the repository root; fail with its output unless it exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUME_")}
    # A session of its own, so that a run that hangs is stopped with the servers it started.
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            pytest.fail(f"{' '.join(argv)} ran past {timeout} s:\n{out}\n{err}", pytrace=False)
    if process.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {process.returncode}:\n{out}\n{err}", pytrace=False)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def written_report(folder: Path) -> dict[str, Any]:
    """The one JSON report a run wrote into its --results folder, beside its table."""
    (found,) = folder.glob("*.json")
    assert found.with_suffix(".txt").read_text().strip(), "the table was not written"
    return json.loads(found.read_text())  # type: ignore[no-any-return]


def answered_well(statuses: dict[str, int]) -> bool:
    """Every response a load generator counted was a page (200) or a redirect (302, 303)."""
    return bool(statuses) and all(key.endswith((":200", ":302", ":303")) for key in statuses)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Where a run writes its table and figures: the test's folder, never bench/results/."""
    return tmp_path / "results"


@pytest.fixture
def postgres() -> str:
    """The PostgreSQL server outbox.py makes its own database on; without it the test fails.

    Only RESUME_TEST_SKIP_POSTGRES=1, the suite's own way to run the SQLite half on purpose
    (never in CI), leaves it out: then the value is empty and the PostgreSQL rows are not run.
    """
    if "postgresql" not in BACKENDS:
        return ""
    try:
        run(_pg_admin("SELECT 1"))
    except (OSError, Exception) as exc:  # asyncpg raises several kinds
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_HOST} ({exc!r}); bench/outbox.py needs it.",
            pytrace=False,
        )
    return PG_HOST.replace("+asyncpg", "")


def test_steps_benchmark_loses_no_write(results: Path) -> None:
    done = bench(
        sys.executable, "bench/run.py", *SHORT, *NO_WAIT, "--prefill", "--results", str(results)
    )

    report = written_report(results)
    servers = [row["server"] for row in report["rows"]]
    assert servers == ["canned", "bare", "ours", "arrive", "prefill"]
    for row in report["rows"]:
        figures = row["result"]
        assert figures["steps"] > 0, row["server"]
        assert figures["errors"] == [] and figures["unfinished_shoppers"] == 0, figures
        assert answered_well(figures["statuses"]), figures["statuses"]
    for row in report["rows"][2:]:
        ours = row["result"]
        # run.py's own check, and the figures behind it: every acknowledged POST is stored.
        assert ours["rows_ok"]
        assert ours["posts_sent"] == ours["posts_acked"]
        assert ours["rows"]["step_saved"] == ours["rows"]["revisions"] == ours["posts_acked"]
        # uvicorn re-raises SIGTERM once it has shut down cleanly.
        assert ours["server_exit"] in (0, -signal.SIGTERM)
    arrive, prefill = (row["result"]["rows"] for row in report["rows"][3:])
    # Arrivals start a draft every 5 steps (run.ARRIVE_EVERY); with --prefill each keeps the
    # page's car.
    assert arrive["drafts"] * 5 >= arrive["step_saved"] > 0
    assert arrive["page_vehicle"] == 0 and prefill["page_vehicle"] == prefill["drafts"] > 0
    assert "steps/s" in done.stdout and "ratio" in done.stdout
    assert "-> OK, no lost writes" in done.stdout


def test_batches_counts_every_save_in_a_transaction() -> None:
    done = bench(sys.executable, "bench/batches.py", *SHORT)

    found = re.search(r"(\d+) write transactions for (\d+) saves and (\d+) step views", done.stdout)
    assert found, done.stdout
    transactions, saves = int(found[1]), int(found[2])
    assert transactions > 0 and saves > 0
    by_saves = ast.literal_eval(done.stdout.split("transactions by number of saves:", 1)[1])
    assert sum(by_saves.values()) == transactions
    assert sum(int(size) * count for size, count in by_saves.items()) == saves


def test_hotspots_profiles_the_server_under_load(results: Path) -> None:
    # py-spy records whole seconds, one less than the window: 2 s is the shortest run.
    short = ("--connections", "8", "--warmup", "0.5", "--duration", "2")
    done = bench(sys.executable, "bench/hotspots.py", *short, "--results", str(results))

    responses = re.search(r"responses (\{.*\})", done.stdout)
    assert responses, done.stdout
    assert answered_well(ast.literal_eval(responses[1]))
    assert "  error:" not in done.stdout
    assert "samples of the server's threads at work" in done.stdout
    assert "time by part of the work" in done.stdout
    (raw,) = (path for path in results.glob("profile-ours-*.txt") if "-report" not in path.name)
    assert raw.read_text().strip(), "py-spy recorded no stacks"
    # The saved stacks give the same report again, without a server.
    again = bench(sys.executable, "bench/hotspots.py", "--from-raw", str(raw))
    assert again.stdout.strip() in done.stdout


def test_outbox_benchmark_sends_every_message_exactly_once(results: Path, postgres: str) -> None:
    rows = "raw,pg1,pg4,sqlite1" if postgres else "raw,sqlite1"
    done = bench(
        sys.executable, "bench/outbox.py",
        "--messages", str(OUTBOX_MESSAGES), "--repeat", "1", *NO_WAIT,
        "--rows", rows, "--results", str(results),
        *(("--postgres", postgres) if postgres else ()),
    )  # fmt: skip

    report = written_report(results)
    names = ["raw loop", "1 worker, PostgreSQL", "4 workers, PostgreSQL", "1 worker, SQLite"]
    assert [row["name"] for row in report["rows"]] == (names if postgres else names[::3])
    assert report["messages"] == OUTBOX_MESSAGES
    for row in report["rows"]:
        # outbox.py's own check: the sink got each message once, each row is marked sent,
        # every worker took part and stopped cleanly on SIGTERM.
        assert row["ok"], row
        assert row["messages"] == OUTBOX_MESSAGES, row["name"]
    for row in report["rows"][1:]:
        assert row["detail"]["outcome"]["statuses"] == {"sent": OUTBOX_MESSAGES}
        assert row["detail"]["sink"]["unique_ids"] == OUTBOX_MESSAGES
        assert set(row["detail"]["exit_codes"]) == {0}
    assert report["parts_ok"]
    assert "msgs/s" in done.stdout and "ratios, round by round" in done.stdout


def test_django_peer_accepts_every_step(results: Path) -> None:
    done = bench(
        "bench/django_peer/run.sh", *SHORT, *NO_WAIT, "--results", str(results),
        timeout=PEER_FIRST_RUN_SECONDS,
    )  # fmt: skip

    (row,) = written_report(results)["rows"]
    # run.py's own check: every step-1 POST was answered with step 2.
    assert row["posts_sent"] == row["posts_acked"] > 0
    assert row["errors"] == [] and answered_well(row["statuses"]), row
    # One session per wizard opened, and one for the readiness probe.
    assert row["sessions"] == row["drafts_started"] + 1
    assert row["server_exit"] == 0
    assert "steps/s" in done.stdout and "django" in done.stdout


# bench/dashboard.py's smoke run: a small seed (Demo Motors and the second dealership),
# about a second a row. Its rows, in the order the table prints them.
DASHBOARD_DRAFTS = 2000
DASHBOARD_ROWS = ["step", "list", "filtered", "page20", "lead", "status"]


def test_dashboard_benchmark_answers_every_page(results: Path) -> None:
    done = bench(
        sys.executable, "bench/dashboard.py",
        "--drafts", str(DASHBOARD_DRAFTS), "--warmup", "0.2", "--duration", "1", *NO_WAIT,
        "--results", str(results),
        timeout=180,
    )  # fmt: skip

    (found,) = results.glob("dashboard-*.json")
    assert found.with_suffix(".txt").read_text().strip(), "the table was not written"
    (sqlite,) = json.loads(found.read_text())["backends"]
    assert sqlite["name"] == "sqlite" and sqlite["ok"]
    # The seed: Demo Motors has the drafts asked for, the other dealership a quarter, and
    # about 30 % of each are partial leads, each with its lead.
    demo, other = sqlite["seeded"]
    assert demo["drafts"] == DASHBOARD_DRAFTS and other["drafts"] == DASHBOARD_DRAFTS // 4
    assert 0.2 * DASHBOARD_DRAFTS < demo["leads"] < 0.4 * DASHBOARD_DRAFTS
    assert demo["rows"]["leads"] == demo["leads"]
    # Every row ran and every response was the one expected (200, or 303 after a POST).
    assert list(sqlite["rows"]) == DASHBOARD_ROWS
    for key, row in sqlite["rows"].items():
        assert row["count"] > 0 and not row["failed"], (key, row)
    assert sqlite["errors"] == [] and answered_well(sqlite["statuses"]), sqlite["statuses"]
    for label in ("step POST", "status POST"):
        assert sqlite["statuses"].get(f"{label}:303", 0) > 0, sqlite["statuses"]
    assert sqlite["page_depth"] > 1  # the filtered list had a "Next page" to follow
    assert sqlite["server_exit"] in (0, -signal.SIGTERM)
    # The lead list's queries were caught and explained (the plans are printed, not judged:
    # at 2,000 drafts a planner may choose differently than at 100,000).
    explained = {p["query"] for p in sqlite["plans"] if p["plan"]}
    for page in ("first page", "filtered"):
        assert {f"{page}, rows", f"{page}, count"} <= explained, explained
    assert "p50/step" in done.stdout and "query plans of the lead list" in done.stdout


def test_soak_loses_no_acknowledged_save(results: Path, postgres: str) -> None:
    databases = ["sqlite", "postgres"] if postgres else ["sqlite"]
    done = bench(
        sys.executable, "bench/soak.py", "--databases", *databases, *SHORT,
        "--results", str(results),
        timeout=240,
    )  # fmt: skip

    (found,) = results.glob("soak-*.json")
    assert found.with_suffix(".txt").read_text().strip(), "the table was not written"
    report = json.loads(found.read_text())
    assert report["bare"]["steps"] > 0 and answered_well(report["bare"]["statuses"])
    assert [soak["database"] for soak in report["soaks"]] == databases
    for soak in report["soaks"]:
        assert soak["ok"], soak
        # soak.py's own check, and the figures behind it: every 303 is in the rows, once.
        assert soak["posts_acked"] > 0 and soak["lost"] == soak["unacknowledged"] == 0, soak
        assert soak["revisions"] == soak["step_saved"] == soak["posts_acked"], soak
        assert soak["server_errors"] == 0 and answered_well(soak["statuses"]), soak["statuses"]
    assert done.stdout.count(" OK") == len(databases), done.stdout


# bench/pages.py's smoke run (issue #10): bench/seed.py's 20 dealerships at a tiny size, on
# SQLite only (the PostgreSQL half is the same code on another URL), a fraction of a second a
# page, the plans included. Its pages, in the order the table prints them.
PAGES_DRAFTS = 2000
PAGES_ROWS = ["list", "page200", "lead", "funnel1", "funnel5", "team1", "team5", "csv"]


def test_numbers_pages_benchmark_answers_every_page(results: Path) -> None:
    done = bench(
        sys.executable, "bench/pages.py",
        "--sizes", str(PAGES_DRAFTS), "--warmup", "0.1", "--duration", "0.5", *NO_WAIT,
        "--results", str(results),
        timeout=300,
    )  # fmt: skip

    report = written_report(results)
    (sqlite,) = report["databases"]["sqlite"]
    assert sqlite["ok"] and sqlite["drafts"] == PAGES_DRAFTS
    # The seed: 20 dealerships sharing the drafts, about 30 % of them partial leads, each
    # with its lead, and the funnel recounted by `resume migrate`.
    assert len(sqlite["dealers"]) == 20
    assert sum(d["drafts"] for d in sqlite["dealers"]) == PAGES_DRAFTS
    rows = sqlite["seeded_rows"]
    assert 0.2 * PAGES_DRAFTS < rows["leads"] < 0.4 * PAGES_DRAFTS
    assert rows["drafts"] == PAGES_DRAFTS and rows["callbacks"] > 0 and rows["outbox"] > 0
    assert sqlite["timings"]["recount_s"] > 0
    # Every page was timed and answered 200; the export's rows were counted.
    assert list(sqlite["rows"]) == PAGES_ROWS
    for key, row in sqlite["rows"].items():
        assert row["count"] > 0 and not row["failed"] and row["p50_ms"] > 0, (key, row)
    assert sqlite["rows"]["csv"]["rows"] > 0 and sqlite["rows"]["csv"]["rows_per_s"] > 0
    assert sqlite["errors"] == [] and answered_well(sqlite["statuses"]), sqlite["statuses"]
    assert sqlite["depth"] > 1  # the filtered list had a "Next page" to follow
    # Each page's SQL was caught and explained.
    for key in PAGES_ROWS:
        assert any(e["plan"] for e in sqlite["plans"][key]), key
    assert "ratio p50/p99" in done.stdout and "the slowest pages" in done.stdout
