"""What a widget service decides one request ends in: a step shown (`Show`), the shopper sent
on (`Go`), another page of the widget (`Page`), or a file to save (`Download`).

`resume.web.visit.Visit.respond` turns an `Outcome` into the response.
"""

from __future__ import annotations

from typing import Any

import msgspec

from resume.fields import Cleaned
from resume.queries.drafts import DraftState


class Show(msgspec.Struct, frozen=True, kw_only=True):
    """Render step `index` of the widget."""

    index: int
    state: DraftState | None
    token: str
    check: bool = False
    # What was just typed, shown in place of what is stored (a post shown back unsaved).
    posted: dict[str, Cleaned] | None = None
    notice: str = ""
    status: int = 200


class Go(msgspec.Struct, frozen=True):
    """Send the shopper to `url` (303, Post/Redirect/Get)."""

    url: str


class Page(msgspec.Struct, frozen=True):
    """Render a page of the widget that is not a step (save for later, the notice...)."""

    template: str | tuple[str, ...]
    context: dict[str, Any]
    status: int = 200


class Download(msgspec.Struct, frozen=True):
    """A text file to save (a notice)."""

    body: str
    filename: str


Outcome = Show | Go | Page | Download
