"""The vehicle on the dealer's page, passed on the iframe's URL (issue #11, item 1).

A vehicle page's snippet may carry `vin`, `stock`, `year`, `make`, `model`, `trim`, `price`,
`condition` and `image`. A widget's first step names the parameter each of its fields takes
(`page_param` in widgets/*.toml), so the payment widget fills the car being priced and the
trade-in widget the shopper's own car, each from what fits it. Every value is checked as if
the shopper had typed it: a wrong one is shown in its box with the message it would get, and
nothing a URL carries can break the page. The vehicle as the page gave it is also kept with
the draft, so staff see it beside whatever the shopper changed it to.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from resume import source
from resume.definitions import Step
from resume.fields import Cleaned, clean

PARAMS = ("vin", "stock", "year", "make", "model", "trim", "price", "condition", "image")
# Longest a value is kept (as given) for staff; a longer one is cut there, and its box says
# it is too long, as typed.
LONGEST = 200
IMAGE_LONGEST = 500


def image_url(value: str, origins: tuple[str, ...]) -> str:
    """A photo's address if it is on one of the dealer's own sites, else ""."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(value) > IMAGE_LONGEST:
        return ""
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
    return value.strip() if origin in origins else ""


def arrived(
    query: Mapping[str, str], step: Step, origins: tuple[str, ...]
) -> tuple[dict[str, Cleaned], dict[str, str]]:
    """The first step's answers the page's URL fills, each checked as typed, and the vehicle
    as the page gave it (cut for keeping)."""
    filled: dict[str, Cleaned] = {}
    for field in step.fields:
        raw = query.get(field.page_param) if field.page_param else None
        if raw:
            # Checked whole, as a box would be; cut only far past any field's limit.
            filled[field.name] = clean(field, raw[:4000])
    given = {p: query[p][:LONGEST] for p in PARAMS if p != "image" and query.get(p)}
    if query.get("image") and (photo := image_url(query["image"], origins)):
        given["image"] = photo
    return filled, given


def carried(given: Mapping[str, str]) -> str:
    """The page's vehicle as the first page's hidden field carries it to the first save."""
    return source.fitted(given, ("image", "trim", "stock", "vin", "condition", "price"))


def posted(field: str, origins: tuple[str, ...]) -> dict[str, str]:
    """The hidden field as posted, checked again: a shopper can write in it."""
    if not field or len(field) > 2000:
        return {}
    try:
        pairs = dict(parse_qsl(field, keep_blank_values=False, max_num_fields=12))
    except ValueError:
        return {}
    given = {p: v[:LONGEST] for p, v in pairs.items() if p in PARAMS and p != "image" and v}
    if pairs.get("image") and (photo := image_url(pairs["image"], origins)):
        given["image"] = photo
    return given


def headline(given: Mapping[str, str]) -> str:
    """The vehicle in a line: 2025 Toyota RAV4 XLE."""
    return " ".join(given[p] for p in ("year", "make", "model", "trim") if given.get(p))
