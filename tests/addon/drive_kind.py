"""The kind of the test folder's test-drive widget: what it does beyond its TOML."""

from __future__ import annotations

from typing import Any

from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.kinds.base import Facts, Kind, Scene, name_lines, valid_text
from resume.queries.drafts import DraftState


def booking(draft: DraftState | None) -> str:
    values = draft.values if draft else {}
    return f"{valid_text(values, 'model')} on {valid_text(values, 'day').title()}"


class DriveBooking(Kind):
    slug = "test-drive"
    reads = frozenset({"day", "model"})
    moments = {"test_drive": "booked a test drive"}
    finish_moment = "test_drive"
    topic = "your test drive"

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        return {"booking": booking(draft)} if step.kind == "result" else {}

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        return Facts(
            headline=booking(draft),
            subject="test drive: " + booking(draft),
            lines=(*name_lines(draft.values), ("Test drive", booking(draft))),
        )
