"""The project's exceptions. Each carries the HTTP status the web layer answers with.

They live at the bottom so that no lower layer imports from web/ (shared/style.md, rule 3).
Titles and default messages are shown on error pages, so they are marked with `lazy`: each
is translated when the page is made, in the shopper's language (issue #11, item 6).
"""

from babel.support import LazyProxy

from resume.i18n import lazy


class ResumeError(Exception):
    """Base of every error we show a person; `status` is the HTTP status of its page.

    `default` is the message when none is given: a message shoppers meet from several places
    is written once, on its class (issue #8).
    """

    status = 500
    title: str | LazyProxy = lazy("Something went wrong")
    default: str | LazyProxy = ""

    def __init__(self, message: str = "", *, title: str | None = None) -> None:
        shown = message or self.default or self.title
        super().__init__(shown)
        self.message: str | LazyProxy = shown
        if title:
            self.title = title


class ConfigError(ResumeError):
    """A setting or a widget definition is wrong; start-up stops with this message."""


class BadRequest(ResumeError):
    status = 400
    title = lazy("We couldn't read that form")


class Forbidden(ResumeError):
    """Signed in, or signing in, but not allowed: a wrong password or code, a missing CSRF
    token, an action the role may not take."""

    status = 403
    title = lazy("You can't do that here")


class NotFound(ResumeError):
    status = 404
    title = lazy("Page not found")


class DraftGone(NotFound):
    """The draft a page or link names is not there (purged, or never ours)."""

    default = lazy("We couldn't find these saved answers. They may have been deleted.")


class UnknownButton(BadRequest):
    default = lazy("The form was sent with a button we don't know.")


class TokenInvalid(ResumeError):
    """A signed token that is tampered with, for another purpose, or for another dealer."""

    status = 400
    title = lazy("This link or form is not valid")


class TokenExpired(TokenInvalid):
    """A well-signed token past its max_age; `payload` lets us offer a fresh link."""

    status = 410
    title = lazy("This link has expired")

    def __init__(self, message: str = "", *, payload: object = None) -> None:
        super().__init__(message)
        self.payload = payload


class StepNotReached(ResumeError):
    status = 409
    title = lazy("That step isn't open yet")
    default = lazy("Finish the steps before this one first.")


class TooQuick(ResumeError):
    """Sent quicker than a person could have: a bot, or a double press."""

    status = 422
    title = lazy("Please try that again")


class PayloadTooLarge(ResumeError):
    status = 413
    title = lazy("That form was too large")


class TooManyRequests(ResumeError):
    status = 429
    title = lazy("Too many requests")


class Unavailable(ResumeError):
    status = 503
    title = lazy("Busy right now")


class Revoked(TokenInvalid):
    """The draft's version moved on: every older link and page credential is void."""

    status = 410
    title = lazy("This link is no longer valid")
    default = lazy("This page was replaced by a newer link. Open the latest email from us.")
