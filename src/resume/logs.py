"""Logging for whoever runs the server: one line a record, as text or as JSON (issue #13).

`RESUME_LOG_FORMAT=json` writes one JSON object a line with the same fields everywhere: time,
level, logger, message, and, where they are known, the request's id, the dealer's slug, the
route, the method, the status and the duration; the worker adds the message's id, the attempt
and the outcome. The request id comes from a context variable that `web.app.App` sets for each
request, so a line logged anywhere while a request is handled carries it, and the shopper can
quote the id their error page shows.

Never put a shopper's value in a log record: field names, ids and counts only (design rule 6).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from contextvars import ContextVar
from typing import Any

import msgspec

FORMATS = ("text", "json")
# What a record may carry besides its message (logging's `extra=`), in the order written.
FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "message_id",
    "attempt",
    "outcome",
    "batch",
)


class Context:
    """What is known about the request being handled: its id, and its dealer once found."""

    __slots__ = ("dealer", "id")

    def __init__(self, request_id: str) -> None:
        self.id = request_id
        self.dealer = ""


REQUEST: ContextVar[Context | None] = ContextVar("resume_request", default=None)


def new_request_id() -> str:
    """16 hex characters: short enough to read out on the phone, unique enough for a log."""
    return secrets.token_hex(8)


def request_id() -> str:
    context = REQUEST.get()
    return context.id if context else ""


def bind_dealer(slug: str) -> None:
    """Name the dealer of the request being handled, for every line logged after."""
    context = REQUEST.get()
    if context is not None:
        context.dealer = slug


class _WithRequest(logging.Filter):
    """Give every record the request's id and dealer, for the text format's `%(request)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = REQUEST.get()
        record.request = f" [{context.id}]" if context else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: the fields above, and the traceback as text if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = REQUEST.get()
        if context is not None:
            line["request_id"] = context.id
            if context.dealer:
                line["dealer"] = context.dealer
        values = record.__dict__
        for name in FIELDS:
            value = values.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line).decode()


def configure(level: str, log_format: str = "text") -> None:
    """Set up the root logger once for a command; uvicorn's loggers propagate to it. Like
    `logging.basicConfig`, it leaves a root logger that has handlers already (a test's) alone."""
    root = logging.getLogger()
    # alembic narrates every plugin it loads at INFO; our own line says the schema is ready.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(_WithRequest())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level)
