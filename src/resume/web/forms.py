"""Strict parsing of url-encoded form bodies.

Litestar's own form parsing is lenient (last duplicate wins, bad bytes replaced); a save must
instead refuse what it cannot store faithfully, with a message, before anything is written.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from resume.errors import BadRequest, PayloadTooLarge

MAX_FIELD_CHARS = 2000
MAX_FIELDS = 64


def parse_form(body: bytes, content_type: str) -> dict[str, str]:
    """Return the posted fields; duplicates, bad UTF-8 and NUL bytes are a 400."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadRequest("This address only accepts a submitted form.")
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadRequest(
            "The form was sent with characters we can't read. Please retype your answers."
        ) from None
    except ValueError:
        raise BadRequest("The form had far more fields than ours.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise BadRequest(f"The form sent {name!r} twice.")
        if "\x00" in value or "\x00" in name:
            raise BadRequest("The form contained a character we can't store.")
        if len(value) > MAX_FIELD_CHARS:
            raise PayloadTooLarge("One of the answers was far too long.")
        form[name] = value
    return form
