"""Time-based one-time codes (RFC 6238) as authenticator apps make them, and the QR to enrol.

30-second steps, 6 digits, HMAC-SHA-1: the parameters every authenticator app assumes when
the otpauth:// URI names none. Pure: `verify` returns the time step a code matched, and the
caller stores it (staff.totp_step) and passes it back, so no code is accepted twice.
"""

from __future__ import annotations

import hmac
import html
import time

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of the current one still accepted: a phone's clock a little off, or a
# code typed as it changed.
DRIFT = 1

QR_LABEL = "QR code to scan with your authenticator app"
QR_PIXELS = 200


def new_secret() -> str:
    """Make a TOTP key: 160 random bits, base32, as RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, *, label: str = QR_LABEL) -> str:
    """Draw the URI as a QR code: an inline <svg> to put straight into a page."""
    qr = segno.make_qr(uri, error="m")
    modules, _ = qr.symbol_size()
    # Whole pixels per module keep the edges sharp for the phone's camera.
    scale = max(2, round(QR_PIXELS / modules))
    # svg_inline leaves out the XML declaration and namespace, as HTML wants. A white
    # background keeps the code readable on a dark page. The data is drawn as a path, never
    # written as text, so nothing in the URI reaches the markup.
    svg = qr.svg_inline(scale=scale, light="#fff", title=label)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)


def format_secret(secret: str) -> str:
    """Split the key into groups of four, for someone typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def verify(
    secret: str, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """Return the time step the code belongs to, or None if it is wrong, stale or used.

    A code from a step at or before `last_step` is refused (RFC 6238 section 5.2: a code
    is accepted once), so store the step returned and pass it next time.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
