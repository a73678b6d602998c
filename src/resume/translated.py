"""A widget's copy in another language: `widgets/<lang>/<slug>.toml` (issue #11, item 6).

The English definition (widgets/<slug>.toml) holds the steps, the fields and their checks; a
language's file holds only the words, keyed by step and field name, so the two cannot disagree
about anything but words:

    title = "Calcule su pago mensual"
    [steps.vehicle]
    title = "El vehículo"
    [steps.vehicle.fields.condition]
    label = "Nuevo o usado"
    choices = { new = "Nuevo", used = "Usado (o certificado)" }
    [[steps.vehicle.followups]]          # one per English follow-up, in the same order
    subject = "…"
    body = "…"
    [[steps.vehicle.talk]]               # one per English talk track, the same `field`
    say = "…"
    [save_fields.email]
    label = "Correo electrónico"

Every English text must have its translation, with the same `{placeholders}`: a missing or
extra one stops start-up with its file, step and field named, as a broken definition does.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from resume.definitions import Followup, Step, Talk, Widget
from resume.errors import ConfigError
from resume.fields import Choice, Field

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def load_translations(folder: Path, widgets: Mapping[str, Widget]) -> dict[str, dict[str, Widget]]:
    """Each language folder under `folder` (widgets/es/...) read onto the English widgets:
    {lang: {slug: widget}}. A language must translate every widget, whole."""
    found: dict[str, dict[str, Widget]] = {}
    for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir() and len(p.name) == 2):
        words = {}
        for slug, widget in widgets.items():
            path = lang_dir / f"{slug}.toml"
            if not path.is_file():
                raise ConfigError(f"{lang_dir.name}/{slug}.toml is missing: translate every widget")
            words[slug] = translate(widget, _read(path), f"{lang_dir.name}/{path.name}")
        found[lang_dir.name] = words
    return found


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None


class _Reader:
    """Takes the translation of each English text from one table, refusing what is left."""

    def __init__(self, table: Any, where: str) -> None:
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        self.table = dict(table)
        self.where = where

    def text(self, key: str, english: str) -> str:
        if not english:
            if key in self.table:
                raise ConfigError(f"{self.where}: {key!r} has no English text to translate")
            return ""
        said = self.table.pop(key, None)
        if not isinstance(said, str) or not said.strip():
            raise ConfigError(f"{self.where}: {key!r} needs its translation")
        if set(_PLACEHOLDER.findall(said)) != set(_PLACEHOLDER.findall(english)):
            raise ConfigError(
                f"{self.where}: {key!r} must use the same placeholders as the English "
                f"({', '.join(sorted(set(_PLACEHOLDER.findall(english)))) or 'none'})"
            )
        return said

    def sub(self, key: str) -> _Reader:
        return _Reader(self.table.pop(key, {}), f"{self.where}, {key}")

    def rows(self, key: str, count: int) -> list[_Reader]:
        rows = self.table.pop(key, [])
        if not isinstance(rows, list) or len(rows) != count:
            raise ConfigError(f"{self.where}: {key!r} needs {count} entries, as the English has")
        return [_Reader(row, f"{self.where}, {key} {n + 1}") for n, row in enumerate(rows)]

    def done(self) -> None:
        if self.table:
            raise ConfigError(f"{self.where}: nothing in English for {sorted(self.table)[0]!r}")


def translate(widget: Widget, data: Mapping[str, Any], where: str) -> Widget:
    """Return `widget` with every text taken from `data`; anything missing or left over is a
    ConfigError naming where."""
    top = _Reader(data, where)
    steps_table = top.sub("steps")
    steps = tuple(_step(step, steps_table.sub(step.name)) for step in widget.steps)
    steps_table.done()
    saved_table = top.sub("save_fields")
    save_fields = tuple(_field(f, saved_table.sub(f.name)) for f in widget.save_fields)
    saved_table.done()
    translated = msgspec.structs.replace(
        widget,
        title=top.text("title", widget.title),
        short=top.text("short", widget.short),
        intro=top.text("intro", widget.intro),
        steps=steps,
        save_fields=save_fields,
    )
    top.done()
    return translated


def _step(step: Step, words: _Reader) -> Step:
    fields_table = words.sub("fields")
    fields = tuple(_field(f, fields_table.sub(f.name)) for f in step.fields)
    fields_table.done()
    followups = []
    for touch, row in zip(
        step.followups, words.rows("followups", len(step.followups)), strict=True
    ):
        followups.append(
            Followup(subject=row.text("subject", touch.subject), body=row.text("body", touch.body))
        )
        row.done()
    talk = []
    for track, row in zip(step.talk, words.rows("talk", len(step.talk)), strict=True):
        if row.table.pop("field", "") != track.field:
            raise ConfigError(
                f"{row.where}: must be the talk track for {track.field or 'the step'!r}"
            )
        talk.append(Talk(say=row.text("say", track.say), field=track.field, offer=track.offer))
        row.done()
    translated = msgspec.structs.replace(
        step,
        title=words.text("title", step.title),
        intro=words.text("intro", step.intro),
        fields=fields,
        followups=tuple(followups),
        talk=tuple(talk),
    )
    words.done()
    return translated


def _field(field: Field, words: _Reader) -> Field:
    labels = words.sub("choices")
    hints = words.sub("choice_hints")
    choices = tuple(
        Choice(
            value=c.value,
            label=labels.text(c.value, c.label),
            hint=hints.text(c.value, c.hint),
        )
        for c in field.choices
    )
    labels.done()
    hints.done()
    translated = msgspec.structs.replace(
        field,
        label=words.text("label", field.label),
        hint=words.text("hint", field.hint),
        choices=choices,
    )
    words.done()
    return translated
