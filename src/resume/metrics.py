"""Prometheus metrics for whoever runs the server (issue #13), with prometheus-client.

Every process keeps them; they are served only when asked for: `/metrics` on the server's own
port behind `RESUME_METRICS_TOKEN` (a bearer token), or on a port of their own with
`RESUME_METRICS_PORT` (for `resume worker`, which has no HTTP port, and for a server whose
metrics should not share the public port). Labels are routes (the template, never a path
with its ids), methods, statuses, widget slugs, message kinds and outcomes: never an address,
a name, a draft or a value (design rule 6).

Several processes on one machine: set `PROMETHEUS_MULTIPROC_DIR` to an empty folder, the same
for all of them, before they start; every process then writes its figures there and any one of
them serves the sum (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# The process's own figures; `served()` picks what a scrape reads.
REGISTRY: Final = CollectorRegistry(auto_describe=True)
# Without its charset: the web layer adds "; charset=utf-8" to every text type itself.
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST.split("; charset")[0]

FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

STEPS_SAVED = Counter(
    "resume_steps_saved", "Saves committed and acknowledged, by widget.", ["widget"],
    registry=REGISTRY,
)  # fmt: skip
SAVE_SECONDS = Histogram(
    "resume_save_seconds", "From a save's queueing to its commit.", buckets=FAST,
    registry=REGISTRY,
)  # fmt: skip
SAVES_PER_BATCH = Histogram(
    "resume_saves_per_batch", "Saves committed in one transaction of the autosave writer.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=REGISTRY,
)  # fmt: skip
REQUESTS = Counter(
    "resume_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"], registry=REGISTRY,
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "resume_request_seconds", "Time to answer a request, by route template.", ["route"],
    buckets=FAST, registry=REGISTRY,
)  # fmt: skip
OUTBOX = Gauge(
    "resume_outbox_messages", "Outbox rows by status, as the worker last counted them.",
    ["status"], registry=REGISTRY, multiprocess_mode="mostrecent",
)  # fmt: skip
SENDS = Counter(
    "resume_outbox_results", "What became of each message the worker took, by kind and outcome "
    "(sent, retry, dead, stopped, suppressed...).", ["kind", "outcome"], registry=REGISTRY,
)  # fmt: skip
SEND_SECONDS = Histogram(
    "resume_send_seconds", "Time to deliver one message, by kind.", ["kind"], buckets=FAST,
    registry=REGISTRY,
)  # fmt: skip
EXITS = Counter(
    "resume_exits_detected", "Shoppers found to have left a widget, by widget.", ["widget"],
    registry=REGISTRY,
)  # fmt: skip
SIGN_IN_FAILURES = Counter(
    "resume_sign_in_failures", "Staff sign-in tries refused, by what was wrong.", ["wrong"],
    registry=REGISTRY,
)  # fmt: skip
LOCKOUTS = Counter(
    "resume_lockouts", "Staff accounts locked after too many failures, and tries refused "
    "because of a lock.", ["event"], registry=REGISTRY,
)  # fmt: skip


def served() -> CollectorRegistry:
    """What a scrape reads: this process's figures, or every process's in multiprocess mode."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    """The figures in Prometheus' text format."""
    return generate_latest(served())


def serve_on_port(port: int, address: str) -> None:
    """Serve the figures on a port of their own, from a thread (prometheus-client's server)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=address, registry=served())
