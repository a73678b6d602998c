"""The widgets this installation serves: each definition with its kind, checked together.

A widget without a kind, or a kind without a widget, stops start-up with a message naming it:
either would fail only when a shopper reached the missing half.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from resume import i18n, page_vehicle
from resume.consent import FOLLOWUP_FIELD
from resume.dealers import Dealer
from resume.definitions import Widget, load_widgets
from resume.errors import ConfigError, NotFound
from resume.kinds import Kind, builtin_kinds
from resume.resources import data_dir
from resume.tables import drafts, field_values
from resume.translated import load_translations


class Catalog:
    """Widget definitions, their kinds, and any template folders searched before ours."""

    def __init__(
        self,
        widgets: Mapping[str, Widget],
        kinds: Mapping[str, Kind],
        templates: tuple[Path, ...] = (),
        translations: Mapping[str, Mapping[str, Widget]] | None = None,
    ) -> None:
        _check(widgets, kinds)
        self.widgets = dict(widgets)
        self.kinds = dict(kinds)
        self.templates = templates
        # {lang: {slug: widget}}: each widget's copy in the languages it has besides English.
        self.translations = {lang: dict(found) for lang, found in (translations or {}).items()}
        # languages() per widget and dealer setting: asked twice a request (issue #14).
        self._languages: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    @classmethod
    def load(
        cls,
        folders: Iterable[Path] | None = None,
        *,
        kinds: Mapping[str, Kind] | None = None,
        templates: Iterable[Path] = (),
    ) -> Catalog:
        """Read the definitions in `folders` (ours by default) and pair each with its kind
        (ours by default)."""
        widgets: dict[str, Widget] = {}
        translations: dict[str, dict[str, Widget]] = {}
        for folder in folders or (data_dir() / "widgets",):
            found = load_widgets(folder)
            for slug, widget in found.items():
                if slug in widgets:
                    raise ConfigError(f"{folder}: widget {slug!r} is defined twice")
                widgets[slug] = widget
            for lang, words in load_translations(folder, found).items():
                translations.setdefault(lang, {}).update(words)
        return cls(
            widgets,
            builtin_kinds() if kinds is None else kinds,
            tuple(templates),
            translations,
        )

    def languages(self, slug: str, offered: Iterable[str]) -> tuple[str, ...]:
        """The languages of `offered` that widget `slug` can be shown in, in their order."""
        key = (slug, tuple(offered))
        found = self._languages.get(key)
        if found is None:
            found = tuple(
                lang
                for lang in key[1]
                if lang == i18n.DEFAULT or slug in self.translations.get(lang, {})
            ) or (i18n.DEFAULT,)
            # Bounded by the widgets (fixed at load) times the dealers' settings; a slug
            # from an address that names no widget is not kept.
            if slug in self.widgets:
                self._languages[key] = found
        return found

    def kind(self, slug: str) -> Kind:
        found = self.kinds.get(slug)
        if found is None:
            raise NotFound("This dealership has no such form.")
        return found

    def for_dealer(self, slug: str, dealer: Dealer, lang: str = i18n.DEFAULT) -> Widget:
        """Return widget `slug` as `dealer` shows it in `lang` (English where it has none);
        an unknown slug is a 404. The kind's own words are in the language of the moment:
        call it inside `i18n.speaking(lang)`."""
        if slug not in self.widgets:
            raise NotFound("This dealership has no such form.")
        words = self.translations.get(lang, {}).get(slug, self.widgets[slug])
        widget = self.kinds[slug].for_dealer(words, dealer)
        if dealer.config.followup_mode == "off":
            widget = widget.without(FOLLOWUP_FIELD)
        elif words := _consent_words(dealer, lang):
            widget = widget.with_label(FOLLOWUP_FIELD, words)
        return widget


def _consent_words(dealer: Dealer, lang: str) -> str:
    """The dealer's own words beside the follow-up box, in `lang` if it wrote them in it;
    its English words otherwise ("" keeps the widget's): a consent's words are the dealer's
    to choose, so ours never replace them."""
    config = dealer.config
    return (config.followup_consent_es if lang == "es" else "") or config.followup_consent


def _check(widgets: Mapping[str, Widget], kinds: Mapping[str, Kind]) -> None:
    if lone := sorted(set(widgets) - set(kinds)):
        raise ConfigError(f"widget {lone[0]!r} has no kind: add a module for it to resume.kinds")
    if lone := sorted(set(kinds) - set(widgets)):
        raise ConfigError(f"kind {lone[0]!r} has no widget: add widgets/{lone[0]}.toml")
    for slug, widget in widgets.items():
        kind = kinds[slug]
        missing = sorted(kind.reads - set(widget.all_fields()))
        if missing:
            raise ConfigError(f"widget {slug!r} lacks fields its kind reads: {', '.join(missing)}")
        consents = any(step.kind == "consent" for step in widget.steps)
        if consents and type(kind).agree is Kind.agree:
            raise ConfigError(f"widget {slug!r} has a consent step its kind does not handle")
        _check_lengths(slug, widget)
        for field in widget.all_fields().values():
            if field.page_param and field.page_param not in page_vehicle.PARAMS:
                raise ConfigError(
                    f"widget {slug!r}: field {field.name!r} takes page_param "
                    f"{field.page_param!r}; the page passes {', '.join(page_vehicle.PARAMS)}"
                )


def _check_lengths(slug: str, widget: Widget) -> None:
    """Names must fit the columns they are stored in: PostgreSQL refuses a longer one where
    SQLite keeps it, so a widget that works on one must not fail on the other."""
    names = [(slug, drafts.c.widget, "its slug")]
    for step in widget.steps:
        names.append((step.name, drafts.c.step, "step"))
        names += [(f.name, field_values.c.name, "field") for f in step.fields]
    for name, column, what in names:
        if len(name) > column.type.length:
            raise ConfigError(
                f"widget {slug!r}: {what} {name!r} is longer than {column.type.length} characters"
            )
