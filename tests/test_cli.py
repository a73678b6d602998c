"""The `resume` command, run as a person runs it: a child process, its output, its exit status,
and what it stored. Bad input gets one clear line on stderr, a non-zero exit, no traceback, and
leaves the database as it was (design rule 4).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, PG_HOST, Store, _pg_admin, child_env, make_settings, run
from litestar.testing import TestClient

from resume.settings import Settings
from resume.web.app import create_app

BASE_URL = "http://127.0.0.1:8123"
SECRET = "cli-test-signing-key-0123456789abcdef"


def cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a `resume` child process on `database_url`."""
    chosen = {
        "RESUME_DATABASE_URL": database_url,
        "RESUME_BASE_URL": BASE_URL,
        "RESUME_SECRET_KEYS": SECRET,
    }
    return child_env(tmp_path, **{**chosen, **extra})


class Resume:
    """Runs `resume ...` against one database and keeps what it printed."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.store = Store(make_settings(database_url, tmp_path))

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "resume", *args],
            cwd=self.tmp_path,
            env=cli_env(self.database_url, self.tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, **env: str) -> str:
        """Run a command that must succeed; return what it printed."""
        done = self(*args, **env)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def refused(self, *args: str, **env: str) -> str:
        """Run a command that must fail plainly; return its stderr."""
        done = self(*args, **env)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode != 0, f"accepted: {done.stdout}"
        assert done.stderr.strip(), "failed without saying why"
        return done.stderr

    def dealer(self, slug: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM dealers WHERE slug = :slug", slug=slug)
        for column in ("origins", "config"):
            if isinstance(row[column], str):  # SQLite hands JSON back as text
                row[column] = json.loads(row[column])
        return row


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, so `migrate` and `demo` must build it themselves."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"resume_cli_{os.getpid()}_{secrets.token_hex(3)}"
    run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_HOST}/{name}"
    finally:
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Resume:
    """The command against a database nobody has migrated yet."""
    return Resume(empty_database_url, tmp_path)


@pytest.fixture
def resume(settings: Settings, tmp_path: Path) -> Resume:
    """The command against a migrated database where Demo Motors already exists."""
    return Resume(settings.database_url, tmp_path)


def test_migrate_builds_the_schema_and_running_it_again_changes_nothing(fresh: Resume) -> None:
    assert "database is up to date" in fresh.ok("migrate")
    assert fresh.store.rows("SELECT * FROM dealers") == []
    before = fresh.store.snapshot()
    version = fresh.store.one("SELECT version_num FROM alembic_version")

    assert "database is up to date" in fresh.ok("migrate")
    assert fresh.store.snapshot() == before
    assert fresh.store.one("SELECT version_num FROM alembic_version") == version


def test_demo_prints_the_dealer_page_on_the_other_origin_and_the_widget(fresh: Resume) -> None:
    printed = fresh.ok("demo")
    assert "'Demo Motors' created" in printed
    # The dealer page is on localhost and the widget on 127.0.0.1: a real third-party frame.
    assert "http://localhost:8123/demo" in printed
    assert "http://127.0.0.1:8123/embed/demo-motors/payment" in printed
    # A demo admin, manager and rep, each with a one-time invitation into the dashboard.
    for email in (
        "admin@demo-motors.example",
        "manager@demo-motors.example",
        "rep@demo-motors.example",
    ):
        assert re.search(
            rf"\({re.escape(email)}\), invitation: http://127\.0\.0\.1:8123/dashboard/invite/\S+",
            printed,
        ), printed
    assert "http://127.0.0.1:8123/dashboard/login" in printed
    dealer = fresh.dealer("demo-motors")
    assert dealer["origins"] == ["http://localhost:8123"]


def test_demo_run_twice_keeps_one_demo_dealer(fresh: Resume) -> None:
    fresh.ok("demo")
    again = fresh.ok("demo")
    assert "'Demo Motors' is ready" in again
    assert "http://localhost:8123/demo" in again
    assert len(fresh.store.rows("SELECT * FROM dealers")) == 1
    assert len(fresh.store.rows("SELECT * FROM staff")) == 3
    # The demo shoppers are seeded once, marked demo, and none of them has mail queued.
    demo = fresh.store.rows("SELECT id FROM drafts WHERE demo")
    assert len(demo) == 12
    assert fresh.store.rows("SELECT * FROM outbox") == []


def test_demo_run_again_on_another_port_moves_the_demo_origin_and_only_it(fresh: Resume) -> None:
    # PORT=8123 ./scripts/run after a first run on 8000 (issue #11, item 7).
    fresh.ok("demo", RESUME_BASE_URL="http://127.0.0.1:8000")
    assert fresh.dealer("demo-motors")["origins"] == ["http://localhost:8000"]
    # A dealer whose own test page happens to sit on the old demo origin, and a real site the
    # demo's admin added by hand: neither is the demo's to move.
    fresh.ok(*dealer_add("hilltop-ford", origin="http://localhost:8000"))
    fresh.ok("dealer", "config", "demo-motors", "--add-origin", "https://cars.example.com")
    others_sql = "SELECT slug, origins, config FROM dealers WHERE slug <> 'demo-motors'"
    others = fresh.store.rows(others_sql)

    printed = fresh.ok("demo", RESUME_BASE_URL="http://127.0.0.1:8123")

    assert "http://localhost:8123/demo" in printed
    assert "http://127.0.0.1:8123/embed/demo-motors/payment" in printed
    assert "http://127.0.0.1:8123/dashboard/login" in printed
    assert re.search(r"invitation: http://127\.0\.0\.1:8123/dashboard/invite/\S+", printed)
    assert ":8000" not in printed.replace("(was http://localhost:8000)", "")
    assert fresh.dealer("demo-motors")["origins"] == [
        "https://cars.example.com",
        "http://localhost:8123",
    ]
    assert fresh.store.rows(others_sql) == others
    # Audited like any change of origins, from the command line.
    [moved] = fresh.store.rows(
        "SELECT subject, staff_id, detail FROM audit WHERE action = 'origins_changed' "
        "ORDER BY id DESC LIMIT 1"
    )
    detail = moved["detail"] if isinstance(moved["detail"], dict) else json.loads(moved["detail"])
    assert (moved["subject"], moved["staff_id"]) == ("dealer:demo-motors", None)
    assert detail == {
        "before": ["http://localhost:8000", "https://cars.example.com"],
        "after": ["https://cars.example.com", "http://localhost:8123"],
        "by": "command line",
    }
    # The page the demo frames now lets the demo page on the new port frame it.
    settings = make_settings(fresh.database_url, fresh.tmp_path, base_url="http://127.0.0.1:8123")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8123") as client:
        policy = client.get("/embed/demo-motors/payment").headers["content-security-policy"]
    assert "http://localhost:8123" in policy and "localhost:8000" not in policy

    # Run again on the same port: nothing moves, nothing more is audited.
    again = fresh.ok("demo", RESUME_BASE_URL="http://127.0.0.1:8123")
    assert "moved" not in again
    assert len(fresh.store.rows("SELECT * FROM audit WHERE action = 'origins_changed'")) == 2


GOOD_DEALER = (
    "dealer", "add", "hilltop-ford",
    "--name", "Hilltop Ford",
    "--email", "Leads@Hilltop-Ford.example",
    "--address", "9 Summit Road, Hilltop, OH 43001",
    "--origin", "https://www.hilltop-ford.example",
    "--origin", "https://Shop.Hilltop-Ford.example/",
    "--phone", "(614) 555-0100",
    "--timezone", "America/Chicago",
)  # fmt: skip


def test_dealer_add_stores_the_dealer_with_its_origins(resume: Resume, tmp_path: Path) -> None:
    printed = resume.ok(*GOOD_DEALER)
    assert "added Hilltop Ford (hilltop-ford)" in printed
    assert f"{BASE_URL}/embed/hilltop-ford/payment" in printed

    dealer = resume.dealer("hilltop-ford")
    assert dealer["name"] == "Hilltop Ford"
    assert dealer["lead_email"].lower() == "leads@hilltop-ford.example"
    assert dealer["address"] == "9 Summit Road, Hilltop, OH 43001"
    assert dealer["phone"] == "(614) 555-0100"
    assert dealer["timezone"] == "America/Chicago"
    # Stored as CSP needs them: scheme://host, no trailing slash, lower case.
    assert dealer["origins"] == [
        "https://www.hilltop-ford.example",
        "https://shop.hilltop-ford.example",
    ]
    finance = dealer["config"]["finance"]
    assert finance["tax_rate"] == "6.25" and finance["doc_fee"] == "499"

    # The new dealer's widget is there, frameable by exactly its own sites.
    with TestClient(create_app(make_settings(resume.database_url, tmp_path))) as client:
        page = client.get("/embed/hilltop-ford/payment")
    assert page.status_code == 200, page.text
    assert 'name="d"' in page.text
    assert page.headers["content-security-policy"].endswith(
        "frame-ancestors https://www.hilltop-ford.example https://shop.hilltop-ford.example"
    )


def test_dealer_add_stores_the_finance_table_it_was_given(resume: Resume) -> None:
    finance = {
        "apr_new": {"excellent": "3.9", "good": "5.9", "fair": "9.9", "rebuilding": "14.9"},
        "terms": [36, 60, 72],
        "trade_reduces_tax": False,
        "tax_rate": "5",
    }
    resume.ok(
        *GOOD_DEALER,
        "--finance-json", json.dumps(finance),
        "--tax-rate", "7.25",
        "--doc-fee", "199.50",
        "--contact-before-result",
        "--resume-link-days", "14",
    )  # fmt: skip
    config = resume.dealer("hilltop-ford")["config"]
    stored = config["finance"]
    assert stored["apr_new"] == finance["apr_new"]
    assert stored["apr_used"]["good"] == "8.99"  # what the JSON left out keeps its default
    assert stored["terms"] == [36, 60, 72]
    assert stored["trade_reduces_tax"] is False
    assert stored["tax_rate"] == "7.25"  # the flag wins over the JSON
    assert stored["doc_fee"] == "199.50"
    assert config["contact_before_result"] is True
    assert config["resume_link_days"] == 14


def test_staff_add_puts_a_person_on_a_dealers_team(resume: Resume) -> None:
    printed = resume.ok("staff", "add", "Pat@Demo-Motors.example", "--dealer", "demo-motors",
                        "--role", "manager")  # fmt: skip
    assert "demo-motors as manager" in printed
    row = resume.store.one(
        "SELECT s.email, s.role, s.status FROM staff s "
        "JOIN staff_dealers sd ON sd.staff_id = s.id JOIN dealers d ON d.id = sd.dealer_id "
        "WHERE d.slug = 'demo-motors' AND s.email = 'pat@demo-motors.example'"
    )
    assert row == {"email": "pat@demo-motors.example", "role": "manager", "status": "invited"}
    assert re.search(r"invitation \(one use, 24 hours\): http://\S+/dashboard/invite/\S+", printed)


def dealer_add(slug: str = "hilltop-ford", **options: str | list[str]) -> list[str]:
    """Return `dealer add` arguments: good ones, with `options` replacing or adding some."""
    values: dict[str, str | list[str]] = {
        "name": "Hilltop Ford",
        "email": "leads@hilltop-ford.example",
        "address": "9 Summit Road, Hilltop, OH 43001",
        "origin": "https://www.hilltop-ford.example",
    }
    values.update(options)
    args = ["dealer", "add", slug]
    for key, value in values.items():
        for one in [value] if isinstance(value, str) else value:
            # `--key=value`, so a value starting with "-" is not read as an option.
            args.append(f"--{key.replace('_', '-')}={one}")
    return args


BAD_DEALERS = [
    pytest.param(dealer_add(origin="*"), "'*' is not an origin", id="origin-star"),
    pytest.param(
        dealer_add(origin="https://example.com/page"), "is not an origin", id="origin-with-path"
    ),
    pytest.param(dealer_add(origin="hilltop-ford.example"), "is not an origin", id="origin-no-url"),
    pytest.param(
        dealer_add(origin=["https://www.hilltop-ford.example", "ftp://hilltop-ford.example"]),
        "is not an origin",
        id="one-good-one-bad-origin",
    ),
    pytest.param(
        dealer_add(origin="https://hilltop-ford.example:99999"),
        "is not an origin",
        id="origin-port-out-of-range",
    ),
    pytest.param(dealer_add(email="leads at hilltop"), "is not an email address", id="bad-email"),
    pytest.param(dealer_add("demo-motors"), "'demo-motors' already exists", id="existing-slug"),
    pytest.param(dealer_add("Bad Slug!"), "lower-case letters, digits and dashes", id="bad-slug"),
    pytest.param(dealer_add(timezone="Mars/Olympus_Mons"), "unknown timezone", id="timezone"),
    pytest.param(
        dealer_add(finance_json="{apr_new: 5}"),
        "--finance-json is not valid",
        id="finance-not-json",
    ),
    pytest.param(
        dealer_add(finance_json='{"apr_used": {"excellent": "6", "good": "8", "fair": "12"}}'),
        "lacks credit bands: rebuilding",
        id="finance-lacks-a-credit-band",
    ),
    pytest.param(
        dealer_add(finance_json='{"tax_rate": "6", "balloon": true}'),
        "--finance-json is not valid",
        id="finance-unknown-key",
    ),
    pytest.param(dealer_add(tax_rate="-1"), "must be between 0 and 25", id="tax-rate-negative"),
    pytest.param(dealer_add(tax_rate="300"), "must be between 0 and 25", id="tax-rate-300"),
    pytest.param(dealer_add(tax_rate="six"), "--tax-rate", id="tax-rate-not-a-number"),
    pytest.param(
        dealer_add(tax_rate="NaN"), "--tax-rate: 'NaN' is not a number", id="tax-rate-nan"
    ),
    pytest.param(
        dealer_add(finance_json='{"tax_rate": "NaN"}'), "tax rate", id="finance-tax-rate-nan"
    ),
    pytest.param(dealer_add(doc_fee="lots"), "--doc-fee", id="doc-fee-not-a-number"),
    pytest.param(dealer_add(doc_fee="-500"), "fee", id="doc-fee-negative"),
    pytest.param(dealer_add(resume_link_days="0"), "between 1 and 365 days", id="link-days-0"),
    pytest.param(dealer_add(name=""), "name", id="empty-name"),
    pytest.param(dealer_add(address=" "), "address", id="empty-address"),
    pytest.param(dealer_add(name="N" * 250), "name", id="name-longer-than-its-column"),
    pytest.param(dealer_add(phone="5" * 40), "phone", id="phone-longer-than-its-column"),
]


@pytest.mark.parametrize(("args", "says"), BAD_DEALERS)
def test_dealer_add_refuses_bad_input_and_stores_nothing(
    resume: Resume, args: list[str], says: str
) -> None:
    before = resume.store.snapshot()
    stderr = resume.refused(*args)
    assert says in stderr
    assert resume.store.snapshot() == before


BAD_STAFF = [
    pytest.param(["a@hilltop.example", "--dealer", "nope", "--role", "sales"],
                 "no dealer 'nope'", id="unknown-dealer"),
    pytest.param(["a@hilltop.example", "--dealer", "demo-motors", "--role", "boss"],
                 "invalid choice: 'boss'", id="bad-role"),
    pytest.param(["not-an-email", "--dealer", "demo-motors", "--role", "sales"],
                 "email", id="bad-email"),
    pytest.param(["rep@demo-motors.example", "--dealer", "demo-motors", "--role", "sales"],
                 "already has an account", id="already-on-the-team"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "says"), BAD_STAFF)
def test_staff_add_refuses_bad_input_and_stores_nothing(
    resume: Resume, args: list[str], says: str
) -> None:
    before = resume.store.snapshot()
    stderr = resume.refused("staff", "add", *args)
    assert says in stderr
    assert resume.store.snapshot() == before


BAD_SETTINGS = [
    pytest.param({"RESUME_MAX_BODY_BYTES": "lots"}, "RESUME_MAX_BODY_BYTES='lots' is not valid",
                 id="body-bytes-not-a-number"),
    pytest.param({"RESUME_RATE_LIMIT_IP": "-5"}, "RESUME_RATE_LIMIT_IP='-5' is not valid",
                 id="rate-limit-negative"),
    pytest.param({"RESUME_BASE_URL": "resume.example.com"}, "RESUME_BASE_URL", id="base-url"),
    pytest.param({"RESUME_SQLITE_SYNCHRONOUS": "SOMETIMES"}, "RESUME_SQLITE_SYNCHRONOUS",
                 id="synchronous"),
    pytest.param({"RESUME_DATABASE_URL": "resume.db"}, "RESUME_DATABASE_URL",
                 id="database-url-not-a-url"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "says"), BAD_SETTINGS)
def test_a_bad_setting_stops_the_command_naming_the_variable(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    cli = Resume(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", tmp_path)
    stderr = cli.refused("migrate", **env)
    assert says in stderr
    assert not (tmp_path / "never.db").exists()


def test_a_short_secret_key_is_refused_without_printing_it(tmp_path: Path) -> None:
    cli = Resume(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", tmp_path)
    stderr = cli.refused("migrate", RESUME_SECRET_KEYS="hunter2")
    assert "RESUME_SECRET_KEYS=*** is not valid" in stderr
    assert "hunter2" not in stderr


def test_a_database_that_is_not_there_gets_a_clear_message(tmp_path: Path) -> None:
    cli = Resume("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", tmp_path)
    stderr = cli.refused("migrate")
    assert "127.0.0.1" in stderr


def test_dealer_config_shows_changes_and_refuses_bad_settings(
    settings: Any, store: Store, tmp_path: Path
) -> None:
    from conftest import resume_cli

    shown = resume_cli(settings, tmp_path, "dealer", "config", "demo-motors")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["trade_in"]["mode"] == "appraiser"
    changed = resume_cli(
        settings,
        tmp_path,
        "dealer",
        "config",
        "demo-motors",
        "--set",
        '{"trade_in": {"offer_hours": 2}, "retention_days": 180}',
    )
    assert changed.returncode == 0, changed.stderr
    stored = store.one("SELECT config FROM dealers WHERE slug = 'demo-motors'")["config"]
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored["trade_in"] == {"mode": "appraiser", "offer_hours": 2, "rules": None}
    assert stored["retention_days"] == 180 and stored["credit"]["provider"] == "builtin"
    before = store.snapshot()
    for bad in (
        '{"credit": {"provider": "experian"}}',
        '{"retention_days": 1}',
        '{"trade_in": {"mode": "rules"}}',
        "[1, 2]",
        "{not json",
    ):
        refused = resume_cli(settings, tmp_path, "dealer", "config", "demo-motors", "--set", bad)
        assert refused.returncode == 2, (bad, refused.stdout, refused.stderr)
        assert refused.stderr.startswith("resume: ") and "Traceback" not in refused.stderr
    assert store.snapshot() == before


def test_dealer_add_prints_a_snippet_for_every_widget(resume: Resume) -> None:
    printed = resume.ok(*GOOD_DEALER)
    for widget in ("payment", "trade-in", "credit"):
        url = f"{BASE_URL}/embed/hilltop-ford/{widget}"
        assert re.search(rf'<iframe src="{re.escape(url)}" title="[^"]+"', printed), widget


def test_dealer_list_shows_every_dealership_with_its_origins(resume: Resume) -> None:
    resume.ok(*GOOD_DEALER)
    listed = resume.ok("dealer", "list").splitlines()
    assert listed[0].split() == ["slug", "name", "lead", "inbox", "timezone", "origins"]
    rows = {line.split()[0]: line for line in listed[1:]}
    assert set(rows) == {"demo-motors", "hilltop-ford"}
    hilltop = rows["hilltop-ford"]
    assert "Hilltop Ford" in hilltop and "America/Chicago" in hilltop
    assert "https://www.hilltop-ford.example https://shop.hilltop-ford.example" in hilltop


def test_dealer_list_on_an_installation_with_none_says_how_to_add_one(fresh: Resume) -> None:
    fresh.ok("migrate")
    assert "No dealerships yet" in fresh.ok("dealer", "list")
    assert "resume dealer add" in fresh.ok("dealer", "list")


def test_dealer_config_shows_adds_and_removes_origins(resume: Resume) -> None:
    shown = json.loads(resume.ok("dealer", "config", "demo-motors"))
    before = shown["origins"]
    assert before and shown["trade_in"]["mode"] == "appraiser"
    added = json.loads(
        resume.ok(
            "dealer", "config", "demo-motors",
            "--add-origin", "https://Cars.Example.COM/", "--add-origin", "http://localhost:8080",
        )
    )  # fmt: skip
    assert added["origins"] == [*before, "https://cars.example.com", "http://localhost:8080"]
    assert resume.dealer("demo-motors")["origins"] == added["origins"]
    removed = json.loads(
        resume.ok("dealer", "config", "demo-motors", "--remove-origin", "https://cars.example.com")
    )
    assert removed["origins"] == [*before, "http://localhost:8080"]
    # Each change is in the audit with what it was and what it became.
    audited = resume.store.rows(
        "SELECT detail FROM audit WHERE action = 'origins_changed' ORDER BY id"
    )
    details = [d if isinstance(d, dict) else json.loads(d) for d in (r["detail"] for r in audited)]
    assert [d["after"] for d in details] == [added["origins"], removed["origins"]]
    assert details[0]["before"] == before


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--add-origin", "ftp://cars.example.com", "origin"),
        ("--add-origin", "https://cars.example.com/inventory", "origin"),
        ("--add-origin", "*", "origin"),
        ("--remove-origin", "https://not-there.example", "not one of"),
        ("--set", '{"origins": ["https://cars.example.com"]}', "--add-origin"),
    ],
)
def test_dealer_config_refuses_a_bad_origin_and_changes_nothing(
    resume: Resume, flag: str, value: str, says: str
) -> None:
    before = resume.store.snapshot()
    refused = resume.refused("dealer", "config", "demo-motors", flag, value)
    assert says in refused
    assert resume.store.snapshot() == before


def test_dealer_config_refuses_to_remove_the_last_origin(resume: Resume) -> None:
    origins = json.loads(resume.ok("dealer", "config", "demo-motors"))["origins"]
    args = [arg for origin in origins for arg in ("--remove-origin", origin)]
    before = resume.store.snapshot()
    assert "at least one" in resume.refused("dealer", "config", "demo-motors", *args)
    assert resume.store.snapshot() == before


def test_outbox_list_has_a_header_and_the_recipient_and_says_when_nothing_matches(
    resume: Resume, settings: Settings
) -> None:
    from conftest import Shopper, saved_for_later

    assert resume.ok("outbox", "list", "--status", "dead").strip() == "No dead messages."
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        saved_for_later(Shopper(client), "pat@example.com")
    listed = resume.ok("outbox", "list", "--status", "pending").splitlines()
    assert listed[0].split() == ["id", "kind", "to", "attempts", "due", "(UTC)", "last", "error"]
    assert len(listed) == 2 and "resume_link" in listed[1] and "pat@example.com" in listed[1]
