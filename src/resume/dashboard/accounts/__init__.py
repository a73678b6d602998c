"""Staff accounts: invitations, passwords and TOTP, sign-in with lockout, sessions.

Every account signs in with a password and a TOTP code (the FTC Safeguards Rule, 16 CFR
314.4(c)(5), asks MFA of anyone who reaches customer information). Sessions are kept in the
database; the cookie holds a random token whose hash is the row's id. Every sign-in, failure,
lockout, enrolment and ended session is audited in the same transaction as the change.
"""

from __future__ import annotations

from resume.dashboard.accounts.invitations import INVITE_HOURS, Enrolment, Invitations
from resume.dashboard.accounts.sessions import Sessions, Signed
from resume.dashboard.accounts.sign_in import SignIn

__all__ = ["INVITE_HOURS", "Accounts", "Enrolment", "Signed"]


class Accounts(Invitations, SignIn, Sessions):
    """The account service: invitations and enrolment, signing in, sessions."""
