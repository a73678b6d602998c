"""A dealer's logo as a file we keep and serve from our own origin (issue #11, item 4).

A logo address on the dealer's own site (Theme.logo) breaks when that site moves it; a file
kept here does not. Only PNG, JPEG and WebP are kept, known by their first bytes and never by
the file's name: an HTML or SVG file renamed .png could run in a page that opens it directly.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import msgspec

from resume.errors import BadRequest, PayloadTooLarge

# A logo is shown at most 240 by 48 px (widget.css): 200 KB is plenty, even at 3x.
MAX_BYTES = 200 * 1024
# The form's body may hold the file and a little more (the boundary, the CSRF token).
MAX_UPLOAD_BYTES = MAX_BYTES + 8 * 1024
# The part of the file's SHA-256 in its address: a new file is a new address, so the old one
# may be cached for a year (`immutable`).
DIGEST_CHARS = 16
ACCEPTED = "PNG, JPEG or WebP"


class LogoFile(msgspec.Struct, frozen=True):
    """A checked image: its Content-Type, its bytes and their SHA-256 (hex)."""

    content_type: str
    body: bytes
    sha256: str


def sniff(body: bytes) -> str:
    """The Content-Type its first bytes say, if it is one we keep; "" otherwise."""
    if body.startswith(b"\x89PNG\r\n\x1a\n") and body[12:16] == b"IHDR":
        return "image/png"
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP" and body[12:15] == b"VP8":
        return "image/webp"
    return ""


def check_logo_file(body: bytes) -> LogoFile:
    """Return the checked logo, or say (a 400 or a 413) why it can't be one."""
    if not body:
        raise BadRequest(f"The file is empty. Choose a {ACCEPTED} image of your logo.")
    if len(body) > MAX_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than {MAX_BYTES // 1024} KB, the most a logo may be. Save "
            "it smaller: 240 by 48 px is the most the widgets show."
        )
    content_type = sniff(body)
    if not content_type:
        raise BadRequest(
            f"That file is not a {ACCEPTED} image (whatever its name says). Choose your "
            "logo saved as one of those."
        )
    return LogoFile(content_type, body, hashlib.sha256(body).hexdigest())


def logo_path(slug: str, sha256: str) -> str:
    """Where our origin serves a dealer's logo file: its address changes with its bytes."""
    return f"/logo/{quote(slug, safe='')}/{sha256[:DIGEST_CHARS]}"
