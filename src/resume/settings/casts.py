"""The casts of the RESUME_* environment variables: each reads a variable's text and returns
its value, or raises ValueError saying what it must be."""

from __future__ import annotations


def keys(value: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ValueError("needs at least one key")
    if any(len(k) < 16 for k in keys):
        raise ValueError("every key must be at least 16 characters")
    return keys


def database_url(value: str) -> str:
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


def smtp_url(value: str) -> str:
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


def log_level(value: str) -> str:
    value = value.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


def log_format(value: str) -> str:
    value = value.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError("must be text or json")
    return value


def proxies(value: str) -> str:
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


def positive_float(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError("must be a number >= 0")
    return number


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a whole number > 0")
    return number


def metrics_token(value: str) -> str:
    value = value.strip()
    if value and (
        len(value) < 24 or not value.isascii() or not value.isprintable() or " " in value
    ):
        raise ValueError("must be at least 24 characters, no spaces (make one: resume keys new)")
    return value


def metrics_port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise ValueError("must be a port number, or 0 for none")
    return number


def address(value: str) -> str:
    import ipaddress

    ipaddress.ip_address(value.strip())
    return value.strip()


def lease_seconds(value: str) -> int:
    number = int(value)
    if not 6 <= number <= 3600:
        raise ValueError("must be between 6 and 3600 seconds")
    return number


def synchronous(value: str) -> str:
    value = value.upper()
    if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError("must be OFF, NORMAL, FULL or EXTRA")
    return value


def url(value: str) -> str:
    value = value.rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value
