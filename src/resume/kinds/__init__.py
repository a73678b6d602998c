"""One module per widget kind: everything a widget does beyond its TOML (style rule 13).

Each module here defines `KIND`, an instance of `resume.kinds.base.Kind` whose `slug` is its
widget's. They are found by looking, not by a list, so adding a widget is its TOML file, its
kind module and its templates, and nothing else (README, "Adding a widget").
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from resume.errors import ConfigError
from resume.kinds.base import Kind

__all__ = ["Kind", "builtin_kinds"]


@cache
def builtin_kinds() -> dict[str, Kind]:
    """Return the kinds shipped in this package, by slug."""
    found: dict[str, Kind] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base" or module.name.startswith("_"):
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if not isinstance(kind, Kind) or not kind.slug:
            raise ConfigError(f"resume.kinds.{module.name} defines no KIND with a slug")
        if kind.slug in found:
            raise ConfigError(f"two kinds claim the widget {kind.slug!r}")
        found[kind.slug] = kind
    return found
