"""Fixtures: a real SQLite file per test and a fresh PostgreSQL database per run (the same
tests on both), a real SMTP server, and small helpers that act as a shopper would.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings as hypothesis_settings
from litestar.testing import TestClient
from sqlalchemy import text

from resume.db import Database
from resume.demo import seed
from resume.migrations import migrate
from resume.settings import Settings
from resume.tables import metadata
from resume.web.app import create_app

PG_HOST = os.environ.get("RESUME_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
SECRET_KEYS = ("test-signing-key-0123456789",)
# Fernet keys for the sealed fields; the rotation test brings a second one.
DATA_KEYS = ("C6tsAFVzcptJlEun0d7cTJHyOhFKkk6gR3rk7rSJS2c=",)
NEWER_DATA_KEY = "77FSDWnJVaXI-MmUR5kxliTYYhK_8L4_Dm0mrtF-bpQ="
BACKENDS = ["sqlite", "postgresql"]
if os.environ.get("RESUME_TEST_SKIP_POSTGRES") == "1" and not os.environ.get("CI"):
    BACKENDS = ["sqlite"]

ROOT = Path(__file__).resolve().parents[1]


def run(coro: Any) -> Any:
    """Run a coroutine from a synchronous test."""
    return asyncio.run(coro)


def child_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a `resume` child process: only the settings the test chose.

    Test-friendly defaults (no bot timer, no rate limits, mail in tmp_path) under the given
    RESUME_* values; PYTHONPATH made absolute because the child runs in tmp_path.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUME_")}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve()) for entry in os.environ["PYTHONPATH"].split(os.pathsep)
        )
    env.update(
        RESUME_SECRET_KEYS=SECRET_KEYS[0],
        RESUME_DATA_KEYS=DATA_KEYS[0],
        RESUME_MIN_FORM_SECONDS="0",
        RESUME_RATE_LIMIT_IP="100000000",
        RESUME_RATE_LIMIT_DRAFT="100000000",
        RESUME_MAIL_DIR=str(tmp_path / "mail"),
        RESUME_LOG_LEVEL="WARNING",
    )
    env.update(settings)
    return env


def resume_cli(settings: Settings, cwd: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run the `resume` command on the test's database, as an operator would; `env` adds
    or overrides RESUME_* settings."""
    import subprocess
    import sys

    env = child_env(cwd, RESUME_DATABASE_URL=settings.database_url, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "resume", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for_serve(
    process: Any, url: str, output: Callable[[], str], timeout: float = 30.0
) -> None:
    """Poll `url`/healthz until a `resume serve` child answers 200; fail with its output if it
    exits or never answers."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"resume serve exited ({process.returncode}):\n{output()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    pytest.fail(
        f"resume serve did not answer /healthz in {timeout} s (last error {last!r}):\n{output()}",
        pytrace=False,
    )


def seed_demo(env: dict[str, str], cwd: Path) -> None:
    """Run `resume demo` as an operator would: migrate and seed Demo Motors."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "resume", "demo"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_keys": SECRET_KEYS,
        "data_keys": DATA_KEYS,
        "mail_dir": str(tmp_path / "mail"),
        # Tests type faster than people; the bot test turns this back on.
        "min_form_seconds": 0.0,
        "rate_limit_ip": 10_000,
        "rate_limit_draft": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test so each starts from a fresh database."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    migrate(make_settings(f"sqlite+aiosqlite:///{path}", folder))
    return path


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_HOST.replace("+asyncpg", "") + "/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated once and dropped at the end."""
    name = f"resume_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:  # asyncpg raises several kinds
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_HOST} ({exc!r}). Start it, e.g. "
            "`pg_ctlcluster --skip-systemctl-redirect 15 main start`; to run only the "
            "SQLite half on purpose, set RESUME_TEST_SKIP_POSTGRES=1 (CI never does).",
            pytrace=False,
        )
    url = f"{PG_HOST}/{name}"
    migrate(make_settings(url, tmp_path_factory.mktemp("pg")))
    yield url
    run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    db = Database(make_settings(url, Path(".")))
    try:
        async with db.write() as conn:
            names = ", ".join(table.name for table in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database a test runs on: a fresh SQLite copy, or the run's PostgreSQL emptied."""
    if request.param == "sqlite":
        path = tmp_path / "resume.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    run(_truncate(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test, with the demo dealership seeded."""
    made = make_settings(database_url, tmp_path)
    run(seed(made))
    return made


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    """The app over HTTP (in process), without its worker: tests send mail when they choose."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


VIEWS = frozenset({"step_viewed", "link_opened"})


class Store:
    """Reads what was stored, straight from the database, as the tests' second witness."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async def query() -> list[dict[str, Any]]:
            db = Database(self.settings)
            try:
                async with db.read() as conn:
                    result = await conn.execute(text(sql), params)
                    return [dict(row._mapping) for row in result]
            finally:
                await db.dispose()

        return run(query())  # type: ignore[no-any-return]

    def execute(self, sql: str, **params: Any) -> None:
        """Change the database behind the app's back: the clock, a revocation, a setting."""

        async def change() -> None:
            db = Database(self.settings)
            try:
                async with db.write() as conn:
                    await conn.execute(text(sql), params)
            finally:
                await db.dispose()

        run(change())

    def one(self, sql: str, **params: Any) -> dict[str, Any]:
        found = self.rows(sql, **params)
        assert len(found) == 1, found
        return found[0]

    def values(self, draft_id: str) -> dict[str, dict[str, Any]]:
        return {
            row["name"]: row
            for row in self.rows("SELECT * FROM field_values WHERE draft_id = :d", d=draft_id)
        }

    def events(self, draft_id: str) -> list[tuple[str, str | None, str | None]]:
        return [
            (r["kind"], r["step"], r["field"])
            for r in self.rows("SELECT * FROM events WHERE draft_id = :d ORDER BY id", d=draft_id)
        ]

    def credential(self, draft_id: str, widget: str = "payment") -> str:
        """A form credential for the draft as stored now: the page its shopper has open."""
        from resume.tokens import FormCredential, Signer

        row = self.one("SELECT version, revision FROM drafts WHERE id = :d", d=draft_id)
        found = FormCredential(1, widget, draft_id, row["version"], row["revision"])
        return Signer(SECRET_KEYS).sign_form(found)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, to show that a request changed nothing.

        Page views (a step shown, a resume link opened) are left out: they are statistics the
        writer records within a second of an earlier GET, not a change a request made, and
        would make "nothing changed" depend on that second (`views` reads them).
        """
        found = {
            table.name: self.rows(f"SELECT * FROM {table.name} ORDER BY 1")
            for table in metadata.sorted_tables
        }
        found["events"] = [e for e in found["events"] if e["kind"] not in VIEWS]
        return found

    def views(self, draft_id: str) -> list[str]:
        """The views recorded of a draft's pages, oldest first."""
        return [
            r["kind"]
            for r in self.rows(
                "SELECT kind FROM events WHERE draft_id = :d ORDER BY id", d=draft_id
            )
            if r["kind"] in VIEWS
        ]


@pytest.fixture
def store(settings: Settings) -> Store:
    """Direct reads of the test's database."""
    return Store(settings)


TOKEN = re.compile(r'name="d" value="([^"]+)"')


class Shopper:
    """Acts as a shopper in the widget: reads the page's credential, fills steps, follows
    the redirect of each save like a browser would."""

    def __init__(
        self, client: TestClient[Any], dealer: str = "demo-motors", widget: str = "payment"
    ) -> None:
        self.client = client
        self.base = f"/embed/{dealer}/{widget}"
        self.page: Any = None

    @property
    def token(self) -> str:
        found = TOKEN.search(self.page.text)
        assert found, f"no form credential on the page: {self.page.text[:500]}"
        return found.group(1)

    @property
    def draft_id(self) -> str:
        from resume.tokens import Signer

        credential, _ = Signer(SECRET_KEYS).verify_form(self.token, max_age=3600)
        return credential.draft_id

    def start(self) -> Any:
        self.page = self.client.get(self.base)
        assert self.page.status_code == 200, self.page.text
        return self.page

    def post(self, step: str, data: dict[str, str], *, follow: bool = True) -> Any:
        response = self.client.post(f"{self.base}/{step}", data=data, follow_redirects=False)
        if follow and response.status_code == 303:
            self.page = self.client.get(response.headers["location"])
            return self.page
        if response.status_code in (200, 422):
            self.page = response
        return response

    def fill(self, step: str, action: str = "continue", **fields: str) -> Any:
        """Post a step as the browser would: the credential, the empty honeypot, the fields.

        A step split so that every step fits its frame (issue #11, item 2) is still filled
        here by its old name with all its answers: the questions that moved to the steps
        before it are answered there first, with Continue, as a shopper would; if one of
        them is refused, that step is where the shopper stays, and its page is returned.
        """
        parts = SPLIT.get((self.base.rsplit("/", 1)[1], step))
        if parts:
            asked = [
                (name, {n: fields.pop(n) for n in names if n in fields}) for name, names in parts
            ]
            asked = [(name, moved) for name, moved in asked if moved]
            if fields or not asked:
                asked.append((parts[-1][0] if not parts[-1][1] else step, fields))
            page = None
            for index, (name, moved) in enumerate(asked):
                last = index == len(asked) - 1
                page = self._fill(name, action if last else "continue", **moved)
                if not last and f'action="{self.base}/{name}"' in page.text:
                    return page  # refused there: the shopper stays on that step
            return page
        return self._fill(step, action, **fields)

    def _fill(self, step: str, action: str = "continue", **fields: str) -> Any:
        data = {"d": self.token, "comment_hp": "", "action": action, **fields}
        # What the first page carries to its first save, sent back as a browser would.
        for name, value in re.findall(
            r'<input type="hidden" name="(source|page_vehicle)" value="([^"]*)">', self.page.text
        ):
            data.setdefault(name, html.unescape(value))
        return self.post(step, data)

    def open(self, url: str) -> Any:
        self.page = self.client.get(url)
        return self.page

    def errors(self) -> list[str]:
        """Each box's message as it is read out: a missing answer's "Required" on screen is
        hidden from screen readers, which hear the whole sentence."""
        return [
            html.unescape(
                re.sub(r"<[^>]+>", "", re.sub(r'<span aria-hidden="true">.*?</span>', "", m))
            )
            .replace("Error:", "")
            .strip()
            for m in re.findall(r'<p class="error[^"]*"[^>]*>(.*?)</p>', self.page.text, re.S)
        ]

    def value(self, name: str) -> str | None:
        """What the page shows for `name`: a box's value, the checked choice, or None."""
        if re.search(rf'type="radio" name="{name}"', self.page.text):
            checked = re.search(rf'name="{name}" value="([^"]*)"[^>]*checked', self.page.text)
            return checked.group(1) if checked else None
        found = re.search(rf'name="{name}" value="([^"]*)"', self.page.text)
        if found:
            return found.group(1)
        checked = re.search(rf'name="{name}" value="([^"]*)"[^>]*checked', self.page.text)
        return checked.group(1) if checked else None


# Steps split so every step fits its frame (issue #11, item 2): a test that fills a step by
# its old name with all its old answers has them asked on the steps they are on now, in
# order, each earlier one with Continue (Shopper.fill). The last part, () below, is every
# answer left, on the step named last.
SPLIT: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], ...]] = {
    ("payment", "numbers"): (("plan", ("plan", "credit")), ("numbers", ())),
    ("trade-in", "condition"): (
        ("condition", ("mileage", "grade")),
        ("history", ("accident", "warning_lights")),
        ("details", ()),
    ),
    ("credit", "address"): (("address", ("street", "city", "state", "zip")), ("home", ())),
    ("credit", "income"): (
        ("income", ("employment", "employer", "years_at_job", "monthly_income")),
        ("credit", ()),
    ),
}

VEHICLE = {
    "condition": "new",
    "year": "2024",
    "make": "Toyota",
    "model": "RAV4",
    "trim": "XLE",
    "stock_number": "DM2451",
    "price": "32,000",
}
# The car a shopper carried from the trade-in or credit widget goes on to price.
USED_CRV = {
    "condition": "used",
    "year": "2022",
    "make": "Honda",
    "model": "CR-V",
    "trim": "",
    "stock_number": "",
    "price": "27,000",
}
NUMBERS = {
    "plan": "finance",
    "down_payment": "3000",
    "trade_value": "8000",
    "trade_payoff": "5000",
    "credit": "good",
    "term": "60",
}


# The numbers as a shopper who gives up half-way left them: a wrong term still in place.
HALFWAY = {**NUMBERS, "term": "6o"}


def save_for_later(
    shopper: Shopper,
    email: str = "shopper@example.com",
    *,
    consent: bool = True,
    step: str = "numbers",
    numbers: dict[str, str] = HALFWAY,
) -> Any:
    """Press "Save and finish later" on `step` (the numbers step typed as `numbers`), then
    send the link to `email`, ticking the follow-up box with `consent`; return the page the
    shopper lands on."""
    shopper.fill(step, action="save", **(numbers if step == "numbers" else {}))
    # The save page, in whatever language the shopper reads.
    assert "/save?" in str(shopper.page.url), shopper.page.text[:500]
    fields = {"from": step, "email": email}
    if consent:
        fields["consent_followup"] = "yes"
    return shopper.fill("save", action="send", **fields)


def saved_for_later(
    shopper: Shopper,
    email: str = "shopper@example.com",
    *,
    consent: bool = False,
    numbers: dict[str, str] = NUMBERS,
) -> str:
    """The shopper who leaves half-way with a link: opens the payment widget, fills the
    vehicle, saves the numbers for later with their email; return the draft's id."""
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    draft_id = shopper.draft_id
    save_for_later(shopper, email, consent=consent, numbers=numbers)
    return draft_id


@pytest.fixture
def shopper(client: TestClient[Any]) -> Shopper:
    """A shopper on Demo Motors' payment widget."""
    return Shopper(client)


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free port; keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.url = f"smtp://127.0.0.1:{port}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        # An address that does not exist, for the permanent-failure tests.
        if address.startswith("gone@"):
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(
                message_from_bytes(
                    envelope.original_content or envelope.content, policy=default_policy
                )  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server the worker delivers to, stopped after the test."""
    box = Mailbox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


def deliver(settings: Settings, smtp_url: str = "", now: Any = None, catalog: Any = None) -> int:
    """Run the outbox worker until nothing is due; return how many messages it handled.

    `now` moves the worker's clock (exit detection and what is due), so tests never sleep;
    `catalog` is the widgets it knows, ours unless a test adds one.
    """
    import msgspec

    from resume.catalog import Catalog
    from resume.keyring import Keyring
    from resume.mail import Composer, transport_for
    from resume.tokens import Signer
    from resume.worker import Worker

    if smtp_url:
        settings = msgspec.structs.replace(settings, smtp_url=smtp_url)

    async def drain() -> int:
        db = Database(settings)
        composer = Composer(settings, Signer(settings.secret_keys), catalog or Catalog.load())
        worker = Worker(db, composer, transport_for(settings), Keyring(settings.data_keys))
        handled = 0
        try:
            while count := await worker.run_once(now):
                handled += count
        finally:
            await worker.transport.close()
            await db.dispose()
        return handled

    return run(drain())  # type: ignore[no-any-return]


def links_in(message: EmailMessage) -> list[str]:
    """The resume links in a message's text part."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return re.findall(r"http://127\.0\.0\.1:8000(/r/[A-Za-z0-9_.\-]+)", body.get_content())


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


class Staff:
    """Acts as a person on a dealership's staff: accepts an invitation (password, then the
    authenticator app, its key read off the page and its codes computed as the app would),
    signs in, and posts the dashboard's forms with their CSRF token."""

    def __init__(self, client: TestClient[Any], settings: Settings, email: str) -> None:
        self.client = client
        self.settings = settings
        self.email = email
        self.secret = ""
        self.recovery: list[str] = []
        self.page: Any = None

    @classmethod
    def invited(
        cls,
        client: TestClient[Any],
        settings: Settings,
        email: str,
        role: str,
        dealers: tuple[int, ...] = (1,),
    ) -> tuple[Staff, str]:
        """A new account and its invitation link (a path), as `resume staff add` makes them."""
        from resume.dashboard.accounts import Accounts
        from resume.keyring import Keyring
        from resume.tokens import Signer

        async def invite() -> str:
            db = Database(settings)
            try:
                accounts = Accounts(
                    settings, db, Keyring(settings.data_keys), Signer(settings.secret_keys)
                )
                return await accounts.invite(email, role, dealers)
            finally:
                await db.dispose()

        link = run(invite())
        return cls(client, settings, email), link.replace(settings.base_url, "")

    @classmethod
    def active(
        cls, client: TestClient[Any], settings: Settings, email: str, role: str, **kw: Any
    ) -> Staff:
        """A person who accepted their invitation and is signed in."""
        person, link = cls.invited(client, settings, email, role, **kw)
        person.accept(link)
        person.login()
        return person

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.page.text)
        assert found, f"no CSRF token on the page: {self.page.text[:300]}"
        return found.group(1)

    def get(self, path: str) -> Any:
        self.page = self.client.get(path)
        return self.page

    def post(self, path: str, *, follow: bool = True, **fields: str) -> Any:
        """Post a form of the current page, as the browser would, with its CSRF token."""
        response = self.client.post(
            path, data={"csrf": self.csrf, **fields}, follow_redirects=False
        )
        if follow and response.status_code == 303:
            self.page = self.client.get(response.headers["location"])
            return self.page
        self.page = response
        return response

    def accept(self, link: str, password: str = PASSWORD) -> list[str]:
        """Choose the password, enrol the app from the key on the page, keep the codes."""
        import pyotp

        self.get(link)
        enrol = self.post(link, password=password, again=password)
        assert enrol.status_code == 200, enrol.text[:500]
        key = re.search(r'<p class="key" id="totp-key">([A-Z2-7 ]+)</p>', enrol.text)
        assert key, enrol.text[:800]
        self.secret = key.group(1).replace(" ", "")
        done = self.post(f"{link}/mfa", follow=False, code=pyotp.TOTP(self.secret).now())
        assert done.status_code == 200, done.text[:500]
        self.recovery = re.findall(
            r"<li>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</li>", done.text
        )
        assert len(self.recovery) == 10
        return self.recovery

    def code(self) -> str:
        """A code the app would show that has not been used yet: a code is accepted once,
        so after one in this time step, the next step's (an app's clock may run a step
        ahead)."""
        import time

        import pyotp

        totp = pyotp.TOTP(self.secret)
        now = int(time.time()) // 30
        store = Store(self.settings)
        last = store.one("SELECT totp_step FROM staff WHERE email = :e", e=self.email)["totp_step"]
        if last is not None and last >= now + 1:
            # A third sign-in inside one time step: the test moves the account's record of
            # the last step back, as if the clock had moved on.
            store.execute(
                "UPDATE staff SET totp_step = :s WHERE email = :e", s=now - 1, e=self.email
            )
            last = now - 1
        return str(totp.generate_otp(now if last is None or last < now else now + 1))

    def login(self, password: str = PASSWORD, code: str = "") -> Any:
        self.get("/dashboard/login")
        self.post("/dashboard/login", email=self.email, password=password)
        if self.page.status_code != 200 or "Enter the code" not in self.page.text:
            return self.page
        return self.post("/dashboard/login/code", code=code or self.code())


class Server:
    """One `resume serve --no-worker` child process, its log kept in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int, name: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp_path / f"{name}.log"
        with self.log.open("wb") as out:
            # The interpreter itself, no shell in between: SIGKILL must hit the server.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "resume", "serve", "--no-worker", "--port", str(port)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        wait_for_serve(self.process, self.url, self.output, timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[dict[str, str], int, str], Server]]:
    """Starts `resume serve` children and kills every one at the end, whatever happened."""
    started: list[Server] = []

    def start(env: dict[str, str], port: int, name: str) -> Server:
        server = Server(tmp_path, env, port, name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


# Hypothesis profiles for tests/test_fuzz.py (issue #12): "ci" by default, a few examples a
# step, the same each run and nothing written to the work tree; "long" for a local hunt,
# `./scripts/test --hypothesis-profile=long tests/test_fuzz.py`. No per-example deadline:
# every example does real HTTP and database work, whose time varies with the machine.
hypothesis_settings.register_profile(
    "ci", max_examples=8, deadline=None, derandomize=True, database=None, print_blob=True
)
hypothesis_settings.register_profile(
    "long", max_examples=1000, deadline=None, database=None, print_blob=True
)
hypothesis_settings.load_profile("ci")
