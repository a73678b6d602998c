"""The `<iframe>` a dealer pastes into its site, for each widget: plain, or with the vehicle
and source parameters as placeholders for the site's own page template (issue #13)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

# The parameters the iframe URL may carry (the contract in docs/design.md), with the
# placeholder a page template fills in. The vehicle suits the payment and trade-in widgets.
VEHICLE = (
    ("vin", "{VIN}"),
    ("stock", "{STOCK}"),
    ("year", "{YEAR}"),
    ("make", "{MAKE}"),
    ("model", "{MODEL}"),
    ("trim", "{TRIM}"),
    ("price", "{PRICE}"),
    ("condition", "{NEW_OR_USED}"),
    ("image", "{PHOTO_URL}"),
)
SOURCE = (
    ("utm_source", "{UTM_SOURCE}"),
    ("utm_medium", "{UTM_MEDIUM}"),
    ("utm_campaign", "{UTM_CAMPAIGN}"),
    ("src", "{PLACEMENT}"),
    ("page", "{PAGE_URL}"),
)
# The page's own language (a dealer's Spanish pages pass es); without it, the browser's.
LANGUAGE = (("lang", "{LANGUAGE}"),)
VEHICLE_WIDGETS = frozenset({"payment", "trade-in"})
# Tall enough for the longest step on a phone, 390 or 320 px wide, without an inner scroll
# bar: what tests/test_browser_fit.py measures every step of every widget against.
HEIGHT = 900


def url(base_url: str, dealer: str, widget: str) -> str:
    return f"{base_url}/embed/{quote(dealer)}/{quote(widget)}"


def template_url(base_url: str, dealer: str, widget: str) -> str:
    """The widget's URL with every parameter a page template may fill in."""
    params = (VEHICLE if widget in VEHICLE_WIDGETS else ()) + SOURCE + LANGUAGE
    return url(base_url, dealer, widget) + "?" + "&".join(f"{k}={v}" for k, v in params)


def iframe(src: str, title: str) -> str:
    """A copy-ready `<iframe>` for `src`."""
    # Inside double quotes only & < > and " need escaping; an apostrophe reads as typed.
    shown = escape(title, quote=False).replace('"', "&quot;")
    return (
        # Width in the style: HTML's width attribute takes pixels only, never "100%".
        f'<iframe src="{escape(src)}" title="{shown}" height="{HEIGHT}" '
        'style="border:0;width:100%" loading="lazy"></iframe>'
    )
