"""Widget definitions: widgets/*.toml read into Structs and checked, a broken one named by
its file, step and field. What a widget does beyond its definition is its kind's
(resume.kinds); the step engine that walks the steps is resume.engine.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import msgspec

from resume.errors import ConfigError
from resume.fields import Choice, Field

# Names the engine itself uses in every form; a widget may not define fields with them.
RESERVED = frozenset({"d", "action", "comment_hp"})


class Followup(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One touch's copy. `{vehicle}`, `{dealer}` and `{step}` are filled in when it is sent."""

    subject: str
    body: str


class Talk(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a rep should say to a shopper who left on this step, or on `field` of it, with
    the shopper's own figures filled in: `{name}`, `{dealer}`, `{vehicle}`, `{step}` and the
    kind's own (resume.kinds.base.Kind.talk_values)."""

    say: str
    field: str = ""
    # The one next step to offer beside it.
    offer: Literal["resume_link", "appointment", "trade_offer"] = "appointment"


class Step(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    title: str
    intro: str = ""
    fields: tuple[Field, ...] = ()
    # "result" steps compute and show; "form" steps ask; a "consent" step shows a notice with
    # an "I agree" button under it (the credit widget's FCRA written instructions).
    kind: Literal["form", "result", "consent"] = "form"
    # A dealer flag that must be on for the step to appear, e.g. contact_before_result.
    when: str = ""
    # Follow-up copy for a shopper who left on this step, one per touch of the cadence.
    followups: tuple[Followup, ...] = ()
    # The rep's talk track for a shopper who left here: one for the step, and one for each
    # field that stops people, by name.
    talk: tuple[Talk, ...] = ()
    # Whether reaching this result step finishes the widget. A trade-in request is finished
    # when it is sent; a payment estimate is not: a shopper who saw the payment and left is
    # the one the result step's follow-up is written for.
    completes: bool = True

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def talk_for(self, field: str | None) -> Talk | None:
        """The talk track for a shopper stopped on `field`, else the step's own."""
        own = {t.field: t for t in self.talk}
        return own.get(field or "") or own.get("")


class Widget(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: str
    title: str
    steps: tuple[Step, ...]
    # What staff call the widget in a list ("Trade-in"); the title when not given.
    short: str = ""
    intro: str = ""
    # Fields asked by "Save and finish later"; they may also appear in a step.
    save_fields: tuple[Field, ...] = ()

    def with_choices(self, name: str, choices: tuple[Choice, ...], hint: str) -> Widget:
        """Return this widget with the fields whose choices come from `name` filled in."""

        def fill(field: Field) -> Field:
            if field.choices_from != name:
                return field
            return msgspec.structs.replace(field, choices=choices, hint=hint or field.hint)

        return self._each_field(fill)

    def with_label(self, name: str, label: str) -> Widget:
        """Return this widget with field `name`'s words replaced, wherever it is asked."""

        def relabel(field: Field) -> Field:
            return msgspec.structs.replace(field, label=label) if field.name == name else field

        return self._each_field(relabel)

    def without(self, name: str) -> Widget:
        """Return this widget with field `name` asked nowhere."""
        steps = tuple(
            msgspec.structs.replace(step, fields=tuple(f for f in step.fields if f.name != name))
            for step in self.steps
        )
        return msgspec.structs.replace(
            self, steps=steps, save_fields=tuple(f for f in self.save_fields if f.name != name)
        )

    def _each_field(self, change: Callable[[Field], Field]) -> Widget:
        steps = tuple(
            msgspec.structs.replace(step, fields=tuple(change(f) for f in step.fields))
            for step in self.steps
        )
        return msgspec.structs.replace(
            self, steps=steps, save_fields=tuple(change(f) for f in self.save_fields)
        )

    @property
    def label(self) -> str:
        return self.short or self.title

    def steps_for(self, flags: frozenset[str]) -> tuple[Step, ...]:
        """Return the steps this dealer shows, in order."""
        return tuple(s for s in self.steps if not s.when or s.when in flags)

    def all_fields(self) -> dict[str, Field]:
        found = {f.name: f for step in self.steps for f in step.fields}
        for field in self.save_fields:
            found.setdefault(field.name, field)
        return found

    def step_of(self, field: str) -> str:
        """Return the name of the step that asks `field` ("" for a save-for-later field)."""
        return next((s.name for s in self.steps for f in s.fields if f.name == field), "")

    def sensitive(self) -> frozenset[str]:
        """The fields sealed at rest and kept out of mail and leads (design rule 6)."""
        return frozenset(name for name, field in self.all_fields().items() if field.sensitive)


def load_widgets(folder: Path) -> dict[str, Widget]:
    """Read and check every definition; a broken one names its file, step and field."""
    widgets = {}
    for path in sorted(folder.glob("*.toml")):
        widget = _load(path)
        widgets[widget.slug] = widget
    if not widgets:
        raise ConfigError(f"no widget definitions in {folder}")
    return widgets


def _load(path: Path) -> Widget:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    for index, step in enumerate(data.get("steps") or []):
        where = f"{path.name}: step {step.get('name', index + 1)!r}"
        for number, field in enumerate(step.get("fields") or []):
            try:
                msgspec.convert(field, Field)
            except msgspec.ValidationError as exc:
                name = field.get("name", number + 1) if isinstance(field, dict) else number + 1
                raise ConfigError(f"{where}, field {name!r}: {exc}") from None
    try:
        widget = msgspec.convert(data, Widget)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path.name}: {exc}") from None
    _check(path.name, widget)
    return widget


def _check(filename: str, widget: Widget) -> None:
    if widget.slug != Path(filename).stem:
        raise ConfigError(f"{filename}: slug {widget.slug!r} must match the file name")
    seen_steps: set[str] = set()
    seen_fields: set[str] = set()
    for step in widget.steps:
        where = f"{filename}: step {step.name!r}"
        if step.name in seen_steps or step.name in {"save", "saved", "showroom"}:
            raise ConfigError(f"{where}: the step name is used twice or reserved")
        seen_steps.add(step.name)
        if step.kind != "form" and step.fields:
            raise ConfigError(f"{where}: a {step.kind} step has no fields")
        for field in step.fields:
            _check_field(f"{where}, field {field.name!r}", field)
            if field.name in seen_fields:
                raise ConfigError(f"{where}, field {field.name!r}: the name is used twice")
            seen_fields.add(field.name)
        talked = [t.field for t in step.talk]
        if len(set(talked)) != len(talked):
            raise ConfigError(f"{where}: two talk tracks for the same field")
        for name in talked:
            if name and step.field(name) is None:
                raise ConfigError(f"{where}: a talk track for {name!r}, which the step doesn't ask")
    for field in widget.save_fields:
        _check_field(f"{filename}: save_fields, field {field.name!r}", field)
    if not widget.steps or widget.steps[0].kind != "form":
        raise ConfigError(f"{filename}: the first step must be a form")


def _check_field(where: str, field: Field) -> None:
    if field.name in RESERVED or not field.name.isidentifier():
        raise ConfigError(f"{where}: the name must be a plain identifier and not reserved")
    if field.type == "choice" and not field.choices and not field.choices_from:
        raise ConfigError(f"{where}: a choice field needs choices")
    if field.type not in {"choice", "integer"} and (field.choices or field.choices_from):
        raise ConfigError(f"{where}: only choice and integer fields have choices")
    if field.choices_from not in {"", "terms"}:
        raise ConfigError(f"{where}: choices_from can only be 'terms'")
