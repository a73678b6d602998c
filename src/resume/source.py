"""Where a shopper came from (issue #10, item 1): the campaign (UTM), the dealer's own label
for the placement (`src`) and page (`page`) passed on the iframe's URL by its snippet, and the
origin of the page that framed the widget (the `Referer` of the frame's first request).

What comes in is anyone's to write, so it is cut, never refused: a value too long is
shortened, characters that are not text are dropped, a page that is not a web address is left
out, and nothing here ever stops the widget. A page keeps no query or fragment: those are where
sites put emails and session ids.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Each parameter, and the longest it is kept. `referrer` is ours: never read from the URL.
LIMITS = {
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "src": 64,
    "page": 500,
}
REFERRER = 200
# The columns of `drafts` they are stored in (resume.tables).
COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "src", "page", "referrer")


def _text(value: str, longest: int) -> str:
    kept = "".join(
        " " if c.isspace() else c
        for c in value[: longest * 4]
        if c.isspace() or not unicodedata.category(c).startswith("C")
    )
    return " ".join(kept.split())[:longest]


def _page(value: str) -> str:
    try:
        parts = urlsplit(value.strip()[:2000])
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    page = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))
    return page if len(page) <= LIMITS["page"] else ""


def _origin(value: str) -> str:
    try:
        parts = urlsplit(value.strip()[:2000])
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
    return origin if len(origin) <= REFERRER else ""


def cleaned(values: Mapping[str, str]) -> dict[str, str]:
    """The source parameters among `values`, cut to what is kept; unknown ones left out."""
    found = {}
    for name, longest in LIMITS.items():
        raw = values.get(name)
        if not isinstance(raw, str) or not raw:
            continue
        value = _page(raw) if name == "page" else _text(raw, longest)
        if value:
            found[name] = value
    referrer = values.get("referrer")
    if isinstance(referrer, str) and (origin := _origin(referrer)):
        found["referrer"] = origin
    return found


def arrived(query: Mapping[str, str], referer: str, own_origin: str) -> dict[str, str]:
    """The source of a first page: its URL's parameters and the page that framed it (unless
    that page is one of ours, as a step's own link back would be)."""
    found = cleaned({k: v for k, v in query.items() if k in LIMITS})
    origin = _origin(referer) if referer else ""
    if origin and origin != own_origin:
        found["referrer"] = origin
    return found


# A posted field longer than 2,000 characters is refused (resume.web.forms): what we carry
# stays under it however much a value's characters grow when percent-encoded.
CARRIED = 1900


def fitted(values: Mapping[str, str], least_first: tuple[str, ...]) -> str:
    """`values` as a hidden field carries them, short enough to post: the least telling are
    left out, in the order given, until it fits; "" if nothing does."""
    kept = dict(values)
    text = urlencode(kept)
    for name in least_first:
        if len(text) <= CARRIED:
            break
        kept.pop(name, None)
        text = urlencode(kept)
    return text if len(text) <= CARRIED else ""


def carried(source: Mapping[str, str]) -> str:
    """The source as the first page's hidden field carries it to the first save."""
    return fitted(source, ("page", "utm_campaign", "utm_medium", "src", "utm_source", "referrer"))


def posted(field: str) -> dict[str, str]:
    """The hidden field as posted, checked again as if new: a shopper can write in it."""
    if not field or len(field) > 2000:
        return {}
    try:
        pairs = parse_qsl(field, keep_blank_values=False, max_num_fields=12)
    except ValueError:
        return {}
    return cleaned(dict(pairs))


def label(source: Mapping[str, str | None]) -> str:
    """The source in a few words, for staff: "google / cpc · spring-sale", or the site."""
    parts = [p for p in (source.get("utm_source"), source.get("utm_medium")) if p]
    words = " / ".join(parts)
    for extra in (source.get("utm_campaign"), source.get("src")):
        if extra:
            words = f"{words} · {extra}" if words else extra
    return words or (source.get("referrer") or "")
