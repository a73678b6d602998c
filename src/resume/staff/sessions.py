"""Server-side staff sessions: the cookie's token, what the table keeps of it, and expiry.

The cookie holds a random token; the table holds only its SHA-256, so a copy of the table
(a backup, a leaked dump) holds no session anyone can use. Pure: the caller stores and reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

# OWASP ASVS 4.0.3 V3.3.2, level 2: sign in again after 30 minutes idle, and after 12 hours
# whatever the activity.
IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)


def new_token() -> str:
    """Make a session token for the cookie: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Return what the sessions table stores for a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cookie_name(secure: bool) -> str:
    """Name the session cookie: `__Host-` pins it to our host over https.

    Browsers take a `__Host-` cookie only with Secure, Path=/ and no Domain, so no subdomain
    can set or overwrite it. Over plain http (local development) Secure can't be set, and the
    prefix would make the browser drop the cookie, so the name goes without it.
    """
    return "__Host-resume-staff" if secure else "resume-staff"


def expired(created_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime) -> str | None:
    """Say why a session is over, "absolute" or "idle", or None while it is good."""
    if now - created_at >= ABSOLUTE:
        return "absolute"
    if now - last_seen_at >= IDLE:
        return "idle"
    return None


def new_csrf_token() -> str:
    """Make the token a session's forms carry back in a hidden field."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, given: str) -> bool:
    """Compare a form's CSRF token with the session's, in constant time."""
    # Bytes, because compare_digest refuses str with non-ASCII characters, and a form field
    # can hold anything. An empty expected token matches nothing.
    return bool(expected) and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
