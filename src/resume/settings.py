"""One frozen Settings object, read once from RESUME_* environment variables.

Every setting has a cast, a default and help text; tests/test_settings.py checks that each one
is documented in the README.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from resume.errors import ConfigError
from resume.keyring import new_key, parse_keys

log = logging.getLogger("resume.settings")

SECRET_FILE = ".resume-secret-key"
DATA_KEY_FILE = ".resume-data-key"


def _keys(value: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ValueError("needs at least one key")
    if any(len(k) < 16 for k in keys):
        raise ValueError("every key must be at least 16 characters")
    return keys


def _database_url(value: str) -> str:
    """Accept plain sqlite:/// and postgresql:// URLs and give them the async driver."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("must be a URL like sqlite+aiosqlite:///resume.db") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError("only SQLite and PostgreSQL are supported")
    return url.render_as_string(hide_password=False)


def _smtp_url(value: str) -> str:
    from urllib.parse import urlsplit

    if not value:
        return ""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("must look like smtp://user:pass@host:587 or smtps://host:465")
    return value


def _log_level(value: str) -> str:
    value = value.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


def _log_format(value: str) -> str:
    value = value.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError("must be text or json")
    return value


def _proxies(value: str) -> str:
    """Addresses or networks of proxies whose X-Forwarded-For is believed; "" for none."""
    import ipaddress

    found = [part.strip() for part in value.split(",") if part.strip()]
    for part in found:
        if part == "*":
            continue
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{part!r} is not an address or a network like 10.0.0.0/8") from None
    return ",".join(found)


def _positive_float(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError("must be a number >= 0")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a whole number > 0")
    return number


def _metrics_token(value: str) -> str:
    value = value.strip()
    if value and (
        len(value) < 24 or not value.isascii() or not value.isprintable() or " " in value
    ):
        raise ValueError("must be at least 24 characters, no spaces (make one: resume keys new)")
    return value


def _metrics_port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise ValueError("must be a port number, or 0 for none")
    return number


def _address(value: str) -> str:
    import ipaddress

    ipaddress.ip_address(value.strip())
    return value.strip()


def _lease_seconds(value: str) -> int:
    number = int(value)
    if not 6 <= number <= 3600:
        raise ValueError("must be between 6 and 3600 seconds")
    return number


def _synchronous(value: str) -> str:
    value = value.upper()
    if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError("must be OFF, NORMAL, FULL or EXTRA")
    return value


def _url(value: str) -> str:
    value = value.rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


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
        _database_url,
        "sqlite+aiosqlite:///resume.db",
        "SQLAlchemy URL. SQLite (sqlite+aiosqlite:///path) is the embedded default; "
        "postgresql+asyncpg://user@host/db for several processes or machines.",
    ),
    Spec(
        "RESUME_SECRET_KEYS",
        "secret_keys",
        _keys,
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
        _url,
        "http://127.0.0.1:8000",
        "Public URL of this server, used in emailed links and in the embed snippet.",
    ),
    Spec(
        "RESUME_SMTP_URL",
        "smtp_url",
        _smtp_url,
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
        _synchronous,
        "NORMAL",
        "SQLite durability. NORMAL (with WAL): an acknowledged save survives a crash of the "
        "process; a power cut may lose the last moments. FULL: survives power loss too, "
        "at a cost in writes per second.",
    ),
    Spec(
        "RESUME_MAX_BODY_BYTES",
        "max_body_bytes",
        _positive_int,
        "16384",
        "Largest form body accepted; larger gets a 413 page.",
    ),
    Spec(
        "RESUME_MIN_FORM_SECONDS",
        "min_form_seconds",
        _positive_float,
        "1.5",
        "Least time between showing a step and its Continue where the browser can autofill "
        "the step, or any Save or showroom press; quicker posts are shown back unsaved, "
        "saying why, for a second press.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_IP",
        "rate_limit_ip",
        _positive_int,
        "120",
        "Form posts per minute allowed from one client address.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_DRAFT",
        "rate_limit_draft",
        _positive_int,
        "60",
        "Form posts per minute allowed for one draft.",
    ),
    Spec(
        "RESUME_RATE_LIMIT_LINKS",
        "rate_limit_links",
        _positive_int,
        "20",
        "Resume-link emails per hour from one client address, to any addresses (a "
        "showroom's kiosk or a shared office address may need more).",
    ),
    Spec(
        "RESUME_FORM_TOKEN_HOURS",
        "form_token_hours",
        _positive_int,
        "72",
        "How long a page's form credential stays valid; older pages offer a fresh link.",
    ),
    Spec(
        "RESUME_WORKER_POLL_SECONDS",
        "worker_poll_seconds",
        _positive_float,
        "1.0",
        "How often the outbox worker looks for due messages when idle.",
    ),
    Spec(
        "RESUME_WORKER_LEASE_SECONDS",
        "worker_lease_seconds",
        _lease_seconds,
        "120",
        "How long a worker holds the messages it claimed. A worker that dies leaves them to "
        "be claimed again after this; each message of a batch gets a share of it to be sent.",
    ),
    Spec(
        "RESUME_FORWARDED_ALLOW_IPS",
        "forwarded_allow_ips",
        _proxies,
        "",
        "Proxies (addresses or networks, comma-separated, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed. Unset: none, and the client address is the "
        "connection's. For a proxy on the same host: 127.0.0.1.",
    ),
    Spec("RESUME_LOG_LEVEL", "log_level", _log_level, "INFO", "Python logging level."),
    Spec(
        "RESUME_METRICS_TOKEN",
        "metrics_token",
        _metrics_token,
        "",
        "Serves Prometheus metrics at /metrics on the server's port to requests with "
        "`Authorization: Bearer <token>` (24 characters or more). Unset: no /metrics there.",
    ),
    Spec(
        "RESUME_METRICS_PORT",
        "metrics_port",
        _metrics_port,
        "0",
        "Serves Prometheus metrics on a port of their own, from `resume serve` and `resume "
        "worker` alike (each process its own port, or see PROMETHEUS_MULTIPROC_DIR). 0: none.",
    ),
    Spec(
        "RESUME_METRICS_ADDRESS",
        "metrics_address",
        _address,
        "127.0.0.1",
        "The address RESUME_METRICS_PORT listens on.",
    ),
    Spec(
        "RESUME_LOG_FORMAT",
        "log_format",
        _log_format,
        "text",
        "text, or json: one JSON object a line (time, level, logger, message, request_id, "
        "dealer, route, status, duration_ms; the worker's message_id, attempt, outcome).",
    ),
)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite+aiosqlite:///resume.db"
    secret_keys: tuple[str, ...] = ()
    data_keys: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str = ""
    mail_from: str = "resume@localhost"
    mail_dir: str = "mail"
    sqlite_synchronous: str = "NORMAL"
    max_body_bytes: int = 16384
    min_form_seconds: float = 1.5
    rate_limit_ip: int = 120
    rate_limit_draft: int = 60
    rate_limit_links: int = 20
    form_token_hours: int = 72
    worker_poll_seconds: float = 1.0
    worker_lease_seconds: int = 120
    forwarded_allow_ips: str = ""
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_token: str = ""
    metrics_port: int = 0
    metrics_address: str = "127.0.0.1"

    def __repr__(self) -> str:
        # Secrets and passwords in URLs never reach a log line or a traceback.
        return f"Settings(database_url={_hide_password(self.database_url)!r}, keys=***)"

    @property
    def metrics_on(self) -> bool:
        """Whether anything serves the metrics: if not, the step's path counts nothing."""
        return bool(self.metrics_token or self.metrics_port)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every RESUME_* variable once; a bad value names its key and the value."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in SPECS:
            raw = environ.get(spec.env, spec.default)
            if raw is None:
                continue
            try:
                values[spec.field] = spec.cast(raw)
            except ValueError as exc:
                shown = "***" if "KEY" in spec.env else repr(raw)
                raise ConfigError(f"{spec.env}={shown} is not valid: {exc}") from None
        if "secret_keys" not in values:
            values["secret_keys"] = (
                _development_key(
                    SECRET_FILE, "RESUME_SECRET_KEYS", lambda: secrets.token_urlsafe(32)
                ),
            )
        if "data_keys" not in values:
            values["data_keys"] = (_development_key(DATA_KEY_FILE, "RESUME_DATA_KEYS", new_key),)
        return cls(**values)


def _development_key(name: str, variable: str, make: Callable[[], str]) -> str:
    path = Path(name)
    if path.exists():
        key = path.read_text().strip()
    else:
        key = make()
        path.write_text(key + "\n")
        path.chmod(0o600)
    log.warning("%s is unset: using the development key in %s", variable, path.resolve())
    return key


def _hide_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
