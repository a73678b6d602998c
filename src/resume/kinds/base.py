"""What a widget kind is: the hooks a kind module may fill, each with a neutral default.

A widget's TOML says what it asks; its kind says what it does beyond that: checks across a
step's fields, the figures its result shows, the moments that alert staff, the lines staff and
mail read, its ADF parts, what it carries into another widget, and whether an "I agree" runs a
pre-qualification. Nothing outside resume.kinds branches on a widget's slug (issue #8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from resume.adf import Parts
from resume.consent import Client
from resume.db import Database
from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.errors import BadRequest
from resume.fields import Cleaned
from resume.i18n import _, lazy
from resume.keyring import Keyring
from resume.queries.drafts import DraftState, Stored
from resume.settings import Settings
from resume.tokens import Signer

# Moments every widget has; a kind adds its own in `Kind.moments`.
MOMENTS = {
    "showroom": "wants to finish at the dealership",
    "resumed_completed": "came back from a resume link and finished the estimate",
}


class Scene(msgspec.Struct, frozen=True):
    """What a kind's page hooks are handed: the dealer, the widget and the steps it shows,
    and the services a hook may use."""

    dealer: Dealer
    widget: Widget
    steps: tuple[Step, ...]
    settings: Settings
    db: Database
    ring: Keyring
    signer: Signer


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """What staff and mail are told about a draft, computed once per message."""

    # What a follow-up calls the shopper's car: "the {vehicle}".
    vehicle: str = "next car"
    # What the lead is about, in brackets after an alert's subject; "" for nothing.
    headline: str = ""
    # What the lead is about, in the subject of the CRM's ADF email.
    subject: str
    # Label and value lines for staff, in the order they read them.
    lines: tuple[tuple[str, str], ...] = ()
    # A payment the shopper worked out, shown in their own mail (a payment Estimate).
    estimate: Any = None
    adf: Parts = msgspec.field(default_factory=Parts)


class Carried(msgspec.Struct, frozen=True):
    """Answers to start another widget's draft with, as typed there ("carry" button)."""

    into: str  # the widget's slug
    typed: dict[str, str]


class Notice(msgspec.Struct, frozen=True):
    """The text a consent step shows above its "I agree", and the version it is stored as."""

    text: str
    # The version id each consent stores: staff and records read it, shoppers never do.
    version: str
    title: str
    # What shoppers read instead, like "Version of November 2026"; "" when it has no date.
    dated: str = ""
    # The language of the words, and whether that is not the shopper's own (a dealer's
    # notice with no Spanish: shown in English, saying so).
    language: str = "en"
    untranslated: bool = False


class Next(msgspec.Struct, frozen=True):
    """The step to show after an action, and whether to mark what it still needs."""

    step: str
    check: bool = False


class Agreement(msgspec.Struct, frozen=True):
    """An "I agree" as posted: the signed proof the page showed the notice, and who sent it."""

    proof: str
    client: Client


# What every talk track may name; `{step}` is filled by whoever shows it.
TALK_KEYS = frozenset({"name", "dealer", "vehicle", "step"})


class Kind:
    """A widget kind's rules; override what the widget does, keep the rest.

    Subclasses set `slug` to their widget's, and `reads` to the fields their code reads by
    name: loading refuses a widget definition that lacks one.
    """

    slug: ClassVar[str] = ""
    reads: ClassVar[frozenset[str]] = frozenset()
    # What staff alerts say of this kind's own moments, by moment.
    moments: ClassVar[Mapping[str, str]] = {}
    # The moment finishing the widget is, if finishing alone alerts staff.
    finish_moment: ClassVar[str] = ""
    # What follow-up reminders are about: "reminders about {topic}".
    topic: ClassVar[str] = lazy("this")  # type: ignore[assignment]
    # The figures this kind adds to talk tracks (talk_values), beyond TALK_KEYS.
    talk_keys: ClassVar[frozenset[str]] = frozenset()
    # Whether staff answer a finished draft of it with an offer (an appraiser's, for a
    # trade-in), emailed to the shopper and shown on its result page.
    takes_offers: ClassVar[bool] = False

    def for_dealer(self, widget: Widget, dealer: Dealer) -> Widget:
        """Return the widget as `dealer` shows it (its own choices filled in)."""
        return widget

    def check(self, step: str, results: dict[str, Cleaned]) -> dict[str, Cleaned]:
        """Check a step's answers together, beyond each field's own check."""
        return results

    def check_with_draft(
        self, scene: Scene, step: str, results: dict[str, Cleaned], values: Mapping[str, Stored]
    ) -> dict[str, Cleaned]:
        """Check a step's answers against the dealer and the answers of earlier steps (the
        payment's term against the plan chosen before it), so every answer is refused on the
        step that asks it, never first on the result (issue #11, item 2)."""
        return results

    def answer_moment(self, results: Mapping[str, Cleaned]) -> str:
        """A moment one of the step's answers is ("plans to trade this week"), or ""."""
        return ""

    def moment_text(self, moment: str) -> str:
        return self.moments.get(moment) or MOMENTS.get(moment, "")

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        """What a result or consent page shows besides its fields."""
        return {}

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        """What staff and mail are told about the draft."""
        return Facts(
            vehicle=_("next car"), subject=widget.title.lower(), lines=name_lines(draft.values)
        )

    def talk_values(self, widget: Widget, dealer: Dealer, draft: DraftState) -> dict[str, str]:
        """The figures a talk track may name, as a rep would say them; kinds add their own
        to these (TALK_KEYS lists the shared ones)."""
        name = valid_text(draft.values, "first_name")
        return {
            "name": name or _("The shopper"),
            "dealer": dealer.name,
            "vehicle": self.facts(widget, dealer, draft).vehicle,
        }

    def adopt(self, scene: Scene, draft: DraftState, choice: str) -> dict[str, Cleaned]:
        """Return the answers a result's "adopt:`choice`" button stands for, checked as if
        typed; a choice the page could not have offered is a BadRequest (issue #11)."""
        raise BadRequest(_("The form was sent with a button this step doesn't have."))

    async def carry(self, scene: Scene, draft: DraftState) -> Carried | None:
        """Answers to open another widget with, or None when there is nothing to carry."""
        return None

    def notice(self, dealer: Dealer) -> Notice | None:
        """The notice of the widget's consent step, if it has one."""
        return None

    async def agree(
        self, scene: Scene, index: int, draft: DraftState, agreement: Agreement
    ) -> Next:
        """Record an "I agree" on consent step `index` and act on it; say where to go next."""
        raise BadRequest(_("This form has nothing to agree to."))


def valid_text(values: Mapping[str, Stored], name: str) -> str:
    """A stored answer on one line, if it is valid; "" otherwise."""
    stored = values.get(name)
    return " ".join(stored.value.split()) if stored and stored.valid else ""


def choice_text(widget: Widget, values: Mapping[str, Stored], name: str) -> str:
    """A valid answer as staff read it: a choice's label ("I own it outright"), never its
    stored value ("own"); any other answer on one line (issue #11, item 4)."""
    text = valid_text(values, name)
    field = widget.all_fields().get(name)
    if text and field is not None and field.type == "choice":
        return next((c.label for c in field.choices if c.value == text), text)
    return text


def name_lines(values: Mapping[str, Stored]) -> tuple[tuple[str, str], ...]:
    """The shopper's name as staff read it, if they gave one."""
    name = " ".join(
        values[n].value.strip()
        for n in ("first_name", "last_name")
        if n in values and values[n].valid and values[n].value.strip()
    )
    return (("Name", name),) if name else ()


def vehicle_label(values: Mapping[str, Stored]) -> str:
    """Return "2024 Toyota RAV4 XLE" from whatever vehicle answers are there."""
    parts = [valid_text(values, name) for name in ("year", "make", "model", "trim")]
    return " ".join(part for part in parts if part) or _("vehicle")
