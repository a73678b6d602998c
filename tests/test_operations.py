"""What whoever runs the server relies on (issue #13, for operators): an id on every
response, shown on its error page and carried by every log line of its request, JSON logs
with the same fields everywhere, and `/readyz`, which says 503 until the database answers
at the schema this version needs, the autosave writer runs and the worker beats.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TOKEN, VEHICLE, child_env, free_port, make_settings, seed_demo
from litestar.testing import TestClient

from resume.migrations import head_revision, migrate
from resume.web.app import create_app

REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")


def test_every_response_carries_a_request_id_and_an_error_page_shows_it(client: Any) -> None:
    answers = [
        client.get("/healthz"),
        client.get("/embed/demo-motors/payment"),
        client.get("/nowhere"),  # no route at all
        client.post("/embed/demo-motors/payment/vehicle", content=b"d=%zz"),  # a bad form
        client.request("OPTIONS", "/healthz"),
        client.head("/readyz"),
    ]
    ids = [answer.headers.get("x-request-id", "") for answer in answers]
    assert all(REQUEST_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    for error in answers[2:4]:
        assert error.status_code in (400, 404), error.status_code
        shown = re.search(r'reference <span class="reference">([0-9a-f]{16})</span>', error.text)
        assert shown and shown.group(1) == error.headers["x-request-id"]


def test_json_log_lines_carry_the_request_id_the_response_did(
    tmp_path: Path, start_server: Any
) -> None:
    port = free_port()
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}",
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_LOG_FORMAT="json",
        RESUME_LOG_LEVEL="INFO",
    )
    seed_demo(env, tmp_path)
    server = start_server(env, port, "json")
    server.wait_healthy()
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/embed/demo-motors/payment")
        token = TOKEN.search(page.text)
        assert token, page.text[:300]
        saved = browser.post(
            "/embed/demo-motors/payment/vehicle",
            data={"d": token.group(1), "comment_hp": "", "action": "continue", **VEHICLE},
        )
        missing = browser.get("/r/not-a-real-link-but-a-secret-looking-token")
    assert saved.status_code == 303 and missing.status_code in (400, 404, 410)
    lines = [line for line in server.log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]  # every line we wrote is one JSON object
    assert records, server.output()
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    by_id = {r.get("request_id"): r for r in records if r["logger"] == "resume.access"}
    step = by_id[saved.headers["x-request-id"]]
    assert step["method"] == "POST" and step["status"] == 303
    assert step["route"] == "/embed/{dealer}/{widget}/{step}"
    assert step["dealer"] == "demo-motors" and step["duration_ms"] >= 0
    first = by_id[page.headers["x-request-id"]]
    assert first["method"] == "GET" and first["status"] == 200
    # A link's token is a credential: the route's template is logged, never the path.
    link = by_id[missing.headers["x-request-id"]]
    assert link["route"].startswith("/r/{") and "secret-looking" not in server.log.read_text()
    # Nothing the shopper typed reaches the log.
    assert VEHICLE["model"] not in server.log.read_text()


def test_readyz_is_ready_with_the_database_at_its_schema_and_the_writer_running(
    client: Any,
) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.text.splitlines() == [
        "ready",
        "database: ok, answers",
        f"schema: ok, at {head_revision()}",
        "autosave writer: ok, running",
    ]
    assert ready.headers["cache-control"] == "no-store"
    head = client.head("/readyz")
    assert head.status_code == 200 and head.content == b""


def test_readyz_is_503_with_the_writer_stopped(settings: Any) -> None:
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        client.blocking_portal.call(app.state.services.autosave.stop)
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "autosave writer: NOT READY, stopped" in answer.text
        # /healthz, the liveness check, says the same about the writer.
        assert client.get("/healthz").status_code == 503


def test_readyz_is_503_with_the_schema_behind_this_version(tmp_path: Path) -> None:
    """A new version deployed before `resume migrate` ran: served, but not ready."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}", tmp_path)
    migrate(settings, "0007")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert (
            f"schema: NOT READY, at 0007, this version needs {head_revision()}: "
            "run `resume migrate`" in answer.text
        )
        migrate(settings)
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_worker_stops_beating(settings: Any) -> None:
    app = create_app(settings, run_worker=True)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        worker = app.state.services.worker
        assert "worker: ok, beating" in client.get("/readyz").text
        worker.heartbeat -= worker.lease.total_seconds() + 1_000  # as if a pass hung
        answer = client.get("/readyz")
        assert answer.status_code == 503 and "worker: NOT READY, stalled" in answer.text


@pytest.mark.parametrize("value", ["xml", "JSONL", ""])
def test_a_log_format_we_do_not_write_is_refused_by_name(value: str) -> None:
    from resume.errors import ConfigError
    from resume.settings import Settings

    with pytest.raises(ConfigError, match="RESUME_LOG_FORMAT"):
        Settings.from_env({"RESUME_LOG_FORMAT": value})


METRICS_TOKEN = "a-scraper-token-of-32-characters"


def scraped(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics read with prometheus-client's own parser: (sample name, labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    assert answer.headers["content-type"].count("charset") == 1
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_the_test_did_and_parse(settings: Any, mailbox: Any, store: Any) -> None:
    import msgspec
    from conftest import Shopper, saved_for_later

    settings = msgspec.structs.replace(settings, metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        before = scraped(client)
        shopper = Shopper(client)
        draft_id = saved_for_later(shopper, "pat@example.com")
        saves = store.one("SELECT revision FROM drafts WHERE id = :d", d=draft_id)["revision"]
        client.get("/nowhere")
        after = scraped(client)
    assert saves >= 2
    saved = value(after, "resume_steps_saved_total", widget="payment") - value(
        before, "resume_steps_saved_total", widget="payment"
    )
    assert saved == saves
    assert (
        value(after, "resume_save_seconds_count") - value(before, "resume_save_seconds_count")
        == saves
    )
    assert (
        value(after, "resume_saves_per_batch_sum") - value(before, "resume_saves_per_batch_sum")
        == saves
    )
    step = dict(route="/embed/{dealer}/{widget}/{step}", method="POST", status="303")
    assert (
        value(after, "resume_requests_total", **step)
        - value(before, "resume_requests_total", **step)
        == saves
    )  # every save was a POST answered 303 (Post/Redirect/Get)
    missing = dict(route="(no route)", method="GET", status="404")
    assert (
        value(after, "resume_requests_total", **missing)
        - value(before, "resume_requests_total", **missing)
        == 1
    )
    # No personal data in any label: the address typed never appears.
    assert not any("pat@example.com" in str(key) for key in after)

    # The email: the worker sends it, and counts it by kind and outcome.
    from conftest import deliver

    sent_before = value(after, "resume_outbox_results_total", kind="resume_link", outcome="sent")
    deliver(settings, mailbox.url)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        final = scraped(client)
    assert value(final, "resume_outbox_results_total", kind="resume_link", outcome="sent") == (
        sent_before + 1
    )
    # The worker counted the outbox after its pass: the link is among the sent.
    assert value(final, "resume_outbox_messages", status="sent") == 1
    assert value(final, "resume_outbox_messages", status="pending") == 0


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer wrong-token-of-enough-length-xx", f"bearer {METRICS_TOKEN}", METRICS_TOKEN],
)
def test_metrics_need_the_token(settings: Any, authorization: str) -> None:
    import msgspec

    settings = msgspec.structs.replace(settings, metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        answer = client.get("/metrics", headers={"Authorization": authorization})
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "resume_" not in answer.text


def test_metrics_are_not_there_without_a_token(client: Any) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_the_worker_serves_its_metrics_on_a_port_of_its_own(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from prometheus_client.parser import text_string_to_metric_families

    port = free_port()
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}",
        RESUME_METRICS_PORT=str(port),
    )
    seed_demo(env, tmp_path)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "resume", "worker"], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        statuses: set[str] = set()
        deadline = time.monotonic() + 30
        # Served from the start; the outbox is counted after the worker's first pass.
        while time.monotonic() < deadline and not statuses:
            time.sleep(0.2)
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                continue
            families = {f.name: f for f in text_string_to_metric_families(text)}
            if "resume_outbox_messages" in families:
                statuses = {s.labels["status"] for s in families["resume_outbox_messages"].samples}
        assert statuses == {"pending", "sent", "dead", "stopped", "suppressed"}, log.read_text()
        assert f"metrics on http://127.0.0.1:{port}/metrics" in log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert worker.returncode in (0, -15), log.read_text()
