"""Every setting: its environment variable, its field, its cast, its default and its help
text (tests/test_settings.py checks that each one is documented in the README)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from resume.keyring import parse_keys
from resume.settings import casts

SECRET_FILE = ".resume-secret-key"
DATA_KEY_FILE = ".resume-data-key"


class Spec(msgspec.Struct, frozen=True):
    env: str
    field: str
    cast: Callable[[str], Any]
    default: str | None
    help: str


SPECS: tuple[Spec, ...] = (
    Spec(
        "RESUME_DATABASE_URL",
        "database_url",
        casts.database_url,
        "sqlite+aiosqlite:///resume.db",
        "SQLAlchemy URL. SQLite (sqlite+aiosqlite:///path) is the embedded default; "
        "postgresql+asyncpg://user@host/db for several processes or machines.",
    ),
    Spec(
        "RESUME_SECRET_KEYS",
        "secret_keys",
        casts.keys,
        None,
        "Comma-separated signing keys, newest last; older keys still verify. Unset: a "
        f"development key is generated once into ./{SECRET_FILE} and a warning is logged.",
    ),
    Spec(
        "RESUME_DATA_KEYS",
        "data_keys",
        parse_keys,
        None,
        "Comma-separated keys that encrypt sensitive fields at rest, newest last (make one "
        "with `resume keys new`). Unset: a development key is generated once into "
        f"./{DATA_KEY_FILE} and a warning is logged.",
    ),
    Spec(
        "RESUME_BASE_URL",
        "base_url",
        casts.url,
        "http://127.0.0.1:8000",
        "Public URL of this server, used in emailed links and in the embed snippet.",
    ),
    Spec(
        "RESUME_SMTP_URL",
        "smtp_url",
        casts.smtp_url,
        "",
        "smtp://user:pass@host:port (STARTTLS when offered) or smtps://... Unset: mail is "
        "written to RESUME_MAIL_DIR, listed at /mail and in the dashboard at /dashboard/mail.",
    ),
    Spec(
        "RESUME_MAIL_FROM",
        "mail_from",
        str,
        "resume@localhost",
        "Envelope and From address of outgoing mail; the display name is the dealer's.",
    ),
    Spec(
        "RESUME_MAIL_DIR",
        "mail_dir",
        str,
        "mail",
        "Folder where mail is kept when RESUME_SMTP_URL is unset.",
    ),
    Spec(
        "RESUME_SQLITE_SYNCHRONOUS",
        "sqlite_synchronous",
        casts.synchronous,
        "NORMAL",
        "SQLite durability. NORMAL (with WAL): an acknowledged save survives a crash of the "
        "process; a power cut may lose the last moments. FULL: survives power loss too, "
        "at a cost in writes per second.",
    ),
    Spec(
        "RESUME_MAX_BODY_BYTES",
        "max_body_bytes",
        casts.positive_int,
        "16384",
        "Largest form body accepted; larger gets a 413 page.",
    ),
    Spec(
        "RESUME_MIN_FORM_SECONDS",
        "min_form_seconds",
        casts.positive_float,
        "1.5",
        "Least time between showing a step and its Continue where the browser can autofill "
        "the step, or any Save or showroom press; quicker posts are shown back unsaved, "
        "saying why, for a second press.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_IP",
        "rate_limit_ip",
        casts.positive_int,
        "120",
        "Form posts per minute allowed from one client address.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_DRAFT",
        "rate_limit_draft",
        casts.positive_int,
        "60",
        "Form posts per minute allowed for one draft.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_LINKS",
        "rate_limit_links",
        casts.positive_int,
        "20",
        "Resume-link emails per hour from one client address, to any addresses (a "
        "showroom's kiosk or a shared office address may need more).",
    ),
    Spec(
        "RESUME_FORM_TOKEN_HOURS",
        "form_token_hours",
        casts.positive_int,
        "72",
        "How long a page's form credential stays valid; older pages offer a fresh link.",
    ),
    Spec(
        "RESUME_WORKER_POLL_SECONDS",
        "worker_poll_seconds",
        casts.positive_float,
        "1.0",
        "How often the outbox worker looks for due messages when idle.",
    ),
    Spec(
        "RESUME_WORKER_LEASE_SECONDS",
        "worker_lease_seconds",
        casts.lease_seconds,
        "120",
        "How long a worker holds the messages it claimed. A worker that dies leaves them to "
        "be claimed again after this; each message of a batch gets a share of it to be sent.",
    ),
    Spec(
        "RESUME_FORWARDED_ALLOW_IPS",
        "forwarded_allow_ips",
        casts.proxies,
        "",
        "Proxies (addresses or networks, comma-separated, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed. Unset: none, and the client address is the "
        "connection's. For a proxy on the same host: 127.0.0.1.",
    ),
    Spec("RESUME_LOG_LEVEL", "log_level", casts.log_level, "INFO", "Python logging level."),
    Spec(
        "RESUME_METRICS_TOKEN",
        "metrics_token",
        casts.metrics_token,
        "",
        "Serves Prometheus metrics at /metrics on the server's port to requests with "
        "`Authorization: Bearer <token>` (24 characters or more). Unset: no /metrics there.",
    ),
    Spec(
        "RESUME_METRICS_PORT",
        "metrics_port",
        casts.metrics_port,
        "0",
        "Serves Prometheus metrics on a port of their own, from `resume serve` and `resume "
        "worker` alike (each process its own port, or see PROMETHEUS_MULTIPROC_DIR). 0: none.",
    ),
    Spec(
        "RESUME_METRICS_ADDRESS",
        "metrics_address",
        casts.address,
        "127.0.0.1",
        "The address RESUME_METRICS_PORT listens on.",
    ),
    Spec(
        "RESUME_LOG_FORMAT",
        "log_format",
        casts.log_format,
        "text",
        "text, or json: one JSON object a line (time, level, logger, message, request_id, "
        "dealer, route, status, duration_ms; the worker's message_id, attempt, outcome).",
    ),
)
