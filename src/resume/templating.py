"""The Jinja2 environments: autoescaped HTML pages and emails, and plain-text emails."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from resume.calc.payment import cents
from resume.resources import data_dir


def money(value: Decimal | int | None) -> str:
    """Format dollars for people: $1,234.50 (half-up to the cent, rule 10)."""
    if value is None:
        return ""
    amount = cents(Decimal(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@cache
def environment(extra: tuple[Path, ...] = ()) -> Environment:
    """Return the shared environment; templates are autoescaped except *.txt. Folders in
    `extra` are searched first (a widget added from outside the package, resume.catalog)."""
    env = Environment(
        loader=FileSystemLoader([str(path) for path in extra] + [str(data_dir() / "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = money
    return env
