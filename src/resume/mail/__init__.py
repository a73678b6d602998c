"""Email: building outbox messages (compose), the email package's policy (policy), and
delivering them by SMTP or into a folder (transport), and the rules that stop a queued
message at send (stops)."""

from resume.mail.compose import Composer
from resume.mail.transport import FolderTransport, SMTPTransport, Transport, transport_for

__all__ = ["Composer", "FolderTransport", "SMTPTransport", "Transport", "transport_for"]
