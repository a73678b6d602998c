"""Delivering a built email: by SMTP, or into a folder on disk for the local mail page."""

from __future__ import annotations

import datetime as dt
import os
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from resume.outbox import KEPT
from resume.settings import Settings

SMTP_TIMEOUT = 20  # seconds per SMTP command; the worker also bounds each whole message


class Transport(Protocol):
    async def send(self, email: EmailMessage) -> str: ...
    async def close(self) -> None: ...


class SMTPTransport:
    """One reused SMTP connection, opened on first use and again after a failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("RESUME_SMTP_URL must look like smtp://user:pass@host:port")
        self._options: dict[str, Any] = {
            "hostname": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "use_tls": parts.scheme == "smtps",
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "timeout": SMTP_TIMEOUT,
        }
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, email: EmailMessage) -> str:
        if self._client is None or not self._client.is_connected:
            self._client = aiosmtplib.SMTP(**self._options)
            await self._client.connect()
        try:
            _, reply = await self._client.send_message(email)
        except aiosmtplib.SMTPResponseException:
            raise  # a refusal leaves the session usable for the next message
        except BaseException:
            # Disconnected, timed out or cancelled mid-command: the session's state is unknown.
            self._client.close()
            self._client = None
            raise
        # aiosmtplib returns the text of the final reply; success after DATA is always 250.
        return f"250 {reply}"

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()
        self._client = None


class FolderTransport:
    """Keeps mail as .eml files for the local mail page, when no SMTP server is set."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    async def send(self, email: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
        token = re.sub(r"[^A-Za-z0-9]", "", str(email["Message-ID"]))[:16]
        path = self.folder / f"{stamp}-{token}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(email))
        os.replace(temporary, path)
        return f"{KEPT}{path.name}"

    async def close(self) -> None:
        return None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url)
    return FolderTransport(settings.mail_dir)
