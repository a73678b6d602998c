"""What a batch of saves is made of, and the rows it writes: `Save` (one POST's change to one
draft), `View` (a page seen), `Batch` (the rows gathered for one transaction).

The data `resume.autosave.plan` plans with; the planning itself is there.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import msgspec

from resume.fields import Cleaned
from resume.keyring import Keyring
from resume.outbox import Outgoing
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries.drafts import DraftState


class Save(msgspec.Struct, kw_only=True):
    """One POST's worth of change to one draft."""

    draft_id: str
    dealer_id: int
    widget: str
    version: int
    # The page's credential was made before the draft existed (version 0).
    new: bool
    step: str
    step_index: int
    values: dict[str, Cleaned]
    now: dt.datetime
    # Fields the widget marks sensitive: stored sealed (resume.keyring).
    sealed: frozenset[str] = frozenset()
    # Values carried from another widget belong to other steps than `step`.
    field_steps: dict[str, str] = msgspec.field(default_factory=dict)
    # The draft this new one was carried from (the same shopper).
    origin_id: str | None = None
    move_step: str | None = None
    move_index: int = 0
    completes: bool = False
    resumed: bool = False
    wants_showroom: bool = False
    link_requested: bool = False
    # False for changes the shopper did not make on a step (a fresh link asked for by email).
    records_step: bool = True
    consent: dict[str, Any] | None = None
    # A demo shopper's draft (`resume demo`): shown to staff, never emailed.
    demo: bool = False
    # Where the shopper came from (resume.source): stored when the save creates the draft.
    source: dict[str, str] = msgspec.field(default_factory=dict)
    # The vehicle on the dealer's page (resume.page_vehicle), kept with a new draft.
    page_vehicle: dict[str, str] = msgspec.field(default_factory=dict)
    # The funnel (issue #10): the widget's steps in order, and the day on the dealership's
    # clock, the cohort a new draft joins.
    steps: tuple[str, ...] = ()
    day: str = ""
    # A draft carried from another widget keeps that draft's source (else: from `source`).
    cohort_source: str = ""
    # The language the shopper is being served in; "" keeps the draft's (issue #11).
    lang: str = ""
    # Mail queued with the save (rule 9): a resume link, or the staff alerts and CRM leads of
    # a high-intent moment (issue #4).
    outgoing: tuple[Outgoing, ...] = ()


class View(msgspec.Struct, frozen=True):
    """A page seen: a step (for the funnel), or a resume link opened (for the timeline; a
    mail scanner opens links too, so it is a view, never a change to the draft)."""

    dealer_id: int
    widget: str
    draft_id: str | None
    step: str
    at: dt.datetime
    kind: str = "step_viewed"


class Batch:
    """The rows one transaction writes, gathered from the saves that planned cleanly."""

    def __init__(self, ring: Keyring) -> None:
        self.ring = ring
        self.new: list[dict[str, Any]] = []
        self.values: list[dict[str, Any]] = []
        self.updates: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.mail: list[dict[str, Any]] = []
        # Drafts whose shopper came back after an exit: their queued follow-ups stop.
        self.returned: list[str] = []
        # Drafts that became partial leads in this batch, and saves of drafts that are.
        self.captured: list[leads_q.Captured] = []
        self.touched: dict[int, dict[str, Any]] = {}
        # What the batch adds to the funnel's summary rows, written in one statement.
        self.counts: Counter[funnel_q.Key] = Counter()

    def count(self, state: DraftState, kind: str, step: str = "") -> None:
        if state.cohort_day is not None:
            key = (state.dealer_id, state.widget, state.cohort_day, state.cohort_source)
            self.counts[(*key, kind, step, "")] += 1

    def event(self, save: Save, kind: str, field: str | None = None) -> None:
        self.events.append(
            {
                "dealer_id": save.dealer_id,
                "draft_id": save.draft_id,
                "widget": save.widget,
                "kind": kind,
                "step": save.step,
                "field": field,
                "at": save.now,
            }
        )
