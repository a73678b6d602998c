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
from resume.keyring import new_key
from resume.settings.specs import DATA_KEY_FILE, SECRET_FILE, SPECS

__all__ = ["SPECS", "Settings"]

log = logging.getLogger("resume.settings")


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
