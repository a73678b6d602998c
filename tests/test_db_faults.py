"""Database faults (issue #12, item 7): PostgreSQL killed under load and restarted, an SQLite
disk that fills up, and one that turns read-only. A shopper pressing a button meanwhile gets a
clear 503 page with their answers still in the form, never a 500 and never a save claimed
that wasn't made; the server recovers by itself, with no restart.

The PostgreSQL here is a private instance of the server binaries on this machine (initdb into
a temporary folder, run as the postgres user), so it can be killed without touching anyone
else's; the disks are small tmpfs mounts (the tests run as root, as CI does here).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import TOKEN, VEHICLE, Server, child_env, free_port, seed_demo

pytestmark = pytest.mark.slow

PG_BIN = Path("/usr/lib/postgresql/15/bin")
WIDGET = "/embed/demo-motors/payment"
SHOPPERS = 6


class PrivatePostgres:
    """A PostgreSQL server of the test's own: its data folder, its port, its process."""

    def __init__(self, folder: Path) -> None:
        if not (PG_BIN / "initdb").exists():
            pytest.fail(
                f"PostgreSQL's server binaries are not in {PG_BIN}: install postgresql-15",
                pytrace=False,
            )
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.log = folder / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/resume"

    def _as_postgres(self, *argv: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"), "-D",
                 str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={self.folder}", "-c", "fsync=on"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        pytest.fail(f"the private PostgreSQL did not start:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
        assert self.process is not None
        # Its own session: the postmaster and every backend it forked, at once.
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        # Backends left behind die with their postmaster; wait for the port to close.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _listening(self.port):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server the test may kill, with an empty database "resume". Its folder is
    outside pytest's (0700, root's own), where the postgres user can reach it."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="resume-pg-"))
    folder.chmod(0o755)
    server = PrivatePostgres(folder / "pg")
    server.start()
    subprocess.run(
        [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
         "resume"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Tally:
    """What one shopper's browser saw."""

    draft_id: str = ""
    acknowledged: int = 0  # the counter of the last save answered with a 303
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    refused_at: list[float] = field(default_factory=list)
    saved_at: list[float] = field(default_factory=list)


def shop(url: str, tally: Tally, stop: threading.Event) -> None:
    """Save the vehicle step again and again, the model counting up; on a 503, check the page
    kept the answer and press again with the page's own credential."""
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get(WIDGET)
        counter = 0
        while not stop.is_set():
            found = TOKEN.search(page.text)
            if not found:
                tally.unexpected.append(f"no form: {page.status_code} {page.text[:200]}")
                return
            counter = tally.acknowledged + 1
            try:
                response = client.post(
                    f"{WIDGET}/vehicle",
                    data={**VEHICLE, "model": f"M{counter}", "d": found.group(1),
                          "comment_hp": "", "action": "continue"},
                )  # fmt: skip
            except httpx.TransportError as exc:
                tally.unexpected.append(repr(exc))
                return
            tally.statuses[response.status_code] += 1
            if response.status_code == 303:
                tally.acknowledged = counter
                tally.saved_at.append(time.monotonic())
                location = response.headers["location"]
                tally.draft_id = re.search(r"d=1\.payment\.([^.]+)\.", location).group(1)  # type: ignore[union-attr]
                page = client.get(location)
                # The step after is "numbers": go back to the vehicle with its credential.
                page = client.get(
                    f"{WIDGET}/vehicle", params={"d": TOKEN.search(page.text).group(1)}
                )  # type: ignore[union-attr]
                if page.status_code == 503:
                    page = _wait_for(client, f"{WIDGET}/vehicle", page, stop)
            elif response.status_code == 503:
                tally.refused_at.append(time.monotonic())
                said = unescape(response.text)
                if (
                    f'value="M{counter}"' not in response.text
                    or "press the button again" not in said
                ):
                    tally.unexpected.append(f"503 without the answer: {response.text[:400]}")
                    return
                page = response
                time.sleep(0.05)
            else:
                tally.unexpected.append(f"{response.status_code}: {response.text[:300]}")
                return


def _wait_for(client: httpx.Client, path: str, page: Any, stop: threading.Event) -> Any:
    """A page read while the database is down is a 503 page; read it again until it answers."""
    query = dict(page.request.url.params)
    while page.status_code == 503 and not stop.is_set():
        time.sleep(0.1)
        page = client.get(path, params=query)
    return page


def test_postgresql_killed_under_load_and_restarted(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    port = free_port()
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=private_pg.url,
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
    )
    seed_demo(env, tmp_path)
    server = Server(tmp_path, env, port, "serve")
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "resume", "worker"], cwd=tmp_path, stdout=worker_log,
        stderr=subprocess.STDOUT, env={**env, "RESUME_WORKER_POLL_SECONDS": "0.2"},
    )  # fmt: skip
    try:
        server.wait_healthy()
        stop = threading.Event()
        tallies = [Tally() for _ in range(SHOPPERS)]
        threads = [threading.Thread(target=shop, args=(server.url, t, stop)) for t in tallies]
        for thread in threads:
            thread.start()
        time.sleep(2)
        before = sum(t.acknowledged for t in tallies)
        killed = time.monotonic()
        private_pg.kill()
        time.sleep(3)
        during = sum(t.acknowledged for t in tallies) - before
        restarted = time.monotonic()
        private_pg.start()
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        after = sum(t.acknowledged for t in tallies) - before - during
        statuses = sum((t.statuses for t in tallies), Counter())
        problems = [u for t in tallies for u in t.unexpected]
        assert not problems, (problems, server.output())
        assert set(statuses) <= {303, 503}, statuses
        assert statuses[503] > 0, "no save was tried while the database was down"
        recovered = min(s for t in tallies for s in t.saved_at if s > restarted) - restarted
        print(
            f"\nsaves acknowledged: {before} before the kill, {during} while down, {after} after "
            f"the restart; 503 answers: {statuses[503]}; first save {recovered:.2f} s after "
            f"PostgreSQL was started again ({restarted - killed:.1f} s down)"
        )
        assert after > 0 and recovered < 15
        # No acknowledged save lost: each draft holds at least the last model acknowledged.
        stored = _stored_models(private_pg)
        lost = [
            (t.draft_id, t.acknowledged, stored.get(t.draft_id))
            for t in tallies
            if t.acknowledged and stored.get(t.draft_id, 0) < t.acknowledged
        ]
        assert not lost, lost
        assert "Traceback" not in server.output()
        # The worker came through too, with no restart: a link asked for now is sent.
        mail = tmp_path / "mail"
        sent_before = len(list(mail.rglob("*.eml"))) if mail.exists() else 0
        with httpx.Client(base_url=server.url, timeout=30) as client:
            page = client.get(WIDGET)
            first = client.post(
                f"{WIDGET}/vehicle",
                data={**VEHICLE, "d": TOKEN.search(page.text).group(1), "comment_hp": "",  # type: ignore[union-attr]
                      "action": "continue"},
            )  # fmt: skip
            token = parse_qs(urlsplit(first.headers["location"]).query)["d"][0]
            later = client.post(
                f"{WIDGET}/save",
                data={"d": token, "from": "vehicle", "email": "ann@example.com",
                      "consent_followup": "yes", "action": "send"},
            )  # fmt: skip
            assert later.status_code == 303, later.text[:500]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list(mail.rglob("*.eml"))) <= sent_before:
            time.sleep(0.2)
        said = (tmp_path / "worker.log").read_text(errors="replace")
        assert len(list(mail.rglob("*.eml"))) > sent_before, said[-3000:]
        assert worker.poll() is None, said[-3000:]
        assert "Traceback" not in said, said[-3000:]
        assert said.count("database unavailable") == 1 and "database back" in said, said[-3000:]
    finally:
        server.kill()
        worker.kill()
        worker.wait(timeout=10)
        worker_log.close()


def _stored_models(pg: PrivatePostgres) -> dict[str, int]:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "resume",
         "-At", "-c", "SELECT draft_id, value FROM field_values WHERE name = 'model'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = {}
    for line in out.stdout.splitlines():
        draft, _, model = line.partition("|")
        if model.startswith("M") and model[1:].isdigit():
            found[draft] = int(model[1:])
    return found


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs of the test's own, unmounted at the end."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the disk-full test (run as root): {done.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_an_sqlite_disk_full_or_read_only_gets_the_503_page(
    small_disk: Path, tmp_path: Path, fault: str
) -> None:
    port = free_port()
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{small_disk / 'resume.db'}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
    )
    seed_demo(env, tmp_path)
    server = Server(tmp_path, env, port, "serve")
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            page = client.get(WIDGET)
            first = client.post(
                f"{WIDGET}/vehicle",
                data={**VEHICLE, "d": TOKEN.search(page.text).group(1), "comment_hp": "",  # type: ignore[union-attr]
                      "action": "continue"},
            )  # fmt: skip
            assert first.status_code == 303
            token = parse_qs(urlsplit(first.headers["location"]).query)["d"][0]
            page = client.get(f"{WIDGET}/vehicle", params={"d": token})
            if fault == "full":
                # Fill the disk but for a sliver, as a log or another program would.
                try:
                    with (small_disk / "filler").open("wb") as filler:
                        while True:
                            filler.write(b"\0" * 65536)
                except OSError:
                    pass
            else:
                # A disk turns read-only under a running server only when the kernel forces it
                # (errors=remount-ro); tmpfs refuses while files are open for writing. So stop,
                # turn it read-only and start again: the server opens a read-only file.
                server.kill()
                subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
                server = Server(tmp_path, env, port, "serve-read-only")
                server.wait_healthy()
                page = client.get(f"{WIDGET}/vehicle", params={"d": token})
                assert page.status_code in (200, 503), page.text[:500]
                if page.status_code == 503:
                    assert "Traceback" not in page.text
                    page = client.get(f"{WIDGET}/vehicle", params={"d": token})
            answers = []
            for n in range(3):
                token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
                response = client.post(
                    f"{WIDGET}/vehicle",
                    data={**VEHICLE, "model": f"Typed{n}",
                          "d": token, "comment_hp": "", "action": "continue"},
                )  # fmt: skip
                answers.append(response.status_code)
                if response.status_code == 503:
                    assert f'value="Typed{n}' in response.text
                    assert "press the button again" in unescape(response.text)
                    page = response
                else:
                    page = (
                        client.get(response.headers["location"])
                        if response.status_code == 303
                        else response
                    )
            assert 503 in answers and not [a for a in answers if a >= 500 and a != 503], answers
            # Save for later, meanwhile: the address typed comes back in the form, no link
            # is claimed as sent.
            later = client.post(
                f"{WIDGET}/save",
                data={"d": TOKEN.search(page.text).group(1), "from": "vehicle",  # type: ignore[union-attr]
                      "email": "ann@example.com", "consent_followup": "yes", "action": "send"},
            )  # fmt: skip
            assert later.status_code == 503, later.text[:500]
            assert 'value="ann@example.com"' in later.text
            assert 'name="from" value="vehicle"' in later.text
            assert "press the button again" in unescape(later.text)
            assert "check your inbox" not in unescape(later.text).lower()
            # The disk comes back: the next press saves, with no restart.
            if fault == "full":
                (small_disk / "filler").unlink()
            else:
                subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
            token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
            again = client.post(
                f"{WIDGET}/vehicle",
                data={
                    **VEHICLE,
                    "model": "Again",
                    "d": token,
                    "comment_hp": "",
                    "action": "continue",
                },
            )
            assert again.status_code == 303, again.text[:500]
        assert "Traceback" not in server.output()
    finally:
        server.kill()
        os.sync()
