"""Where a shopper came from (issue #10, item 1): the campaign, the dealer's placement label
and page on the iframe's URL, and the origin of the page that framed the widget, stored with
the draft at its first save; anything oversized, broken or hostile is cut, never refused, and
never breaks the widget."""

from __future__ import annotations

from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import VEHICLE, Shopper, Store

from resume import source

COLUMNS = ", ".join(source.COLUMNS)


def arrive(client: Any, query: dict[str, str], referer: str = "") -> Shopper:
    """A shopper whose first page was framed by `referer` with the snippet's `query`."""
    shopper = Shopper(client)
    headers = {"referer": referer} if referer else {}
    shopper.page = client.get(f"{shopper.base}?{urlencode(query)}", headers=headers)
    assert shopper.page.status_code == 200, shopper.page.text[:500]
    return shopper


def stored(store: Store, draft_id: str) -> dict[str, Any]:
    return store.one(f"SELECT {COLUMNS} FROM drafts WHERE id = :d", d=draft_id)


def test_the_first_save_stores_the_campaign_the_placement_and_the_framing_site(
    client: Any, store: Store
) -> None:
    shopper = arrive(
        client,
        {
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "rav4-spring",
            "src": "vdp-sidebar",
            "page": "https://www.demo-motors.example/new/rav4-xle?email=pat@example.com#top",
            "vin": "2T3P1RFV8RW000000",
        },
        referer="https://www.demo-motors.example/new/rav4-xle",
    )
    shopper.fill("vehicle", **VEHICLE)
    draft_id = shopper.draft_id
    assert stored(store, draft_id) == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "rav4-spring",
        "src": "vdp-sidebar",
        # The page's address without its query and fragment: sites put emails there.
        "page": "https://www.demo-motors.example/new/rav4-xle",
        "referrer": "https://www.demo-motors.example",
    }
    # Later steps carry no source; a second first-page post (double click) changes nothing.
    shopper.fill("numbers", action="back", source="utm_source=other")
    assert stored(store, draft_id)["utm_source"] == "google"


def test_no_source_is_no_source(client: Any, store: Store) -> None:
    shopper = Shopper(client)
    shopper.start()
    assert 'name="source"' not in shopper.page.text
    shopper.fill("vehicle", **VEHICLE)
    assert set(stored(store, shopper.draft_id).values()) == {None}


def test_our_own_pages_are_not_a_source(client: Any, settings: Any, store: Store) -> None:
    shopper = arrive(client, {}, referer=f"{settings.base_url}/embed/demo-motors/payment/x")
    shopper.fill("vehicle", **VEHICLE)
    assert stored(store, shopper.draft_id)["referrer"] is None


@pytest.mark.parametrize(
    ("query", "referer", "expected"),
    [
        ({"utm_source": "x" * 5000}, "", {"utm_source": "x" * 100}),
        ({"utm_source": "news\x00let\x1bter\u202e"}, "", {"utm_source": "newsletter"}),
        ({"utm_campaign": "  spring \n\t sale  "}, "", {"utm_campaign": "spring sale"}),
        ({"src": "<script>alert(1)</script>"}, "", {"src": "<script>alert(1)</script>"}),
        ({"page": "javascript:alert(1)"}, "", {}),
        ({"page": "https://" + "a" * 600 + ".example/"}, "", {}),
        ({"page": "not a url"}, "", {}),
        ({"utm_medium": ""}, "not a url", {}),
        ({}, "http://[::1", {}),
        ({}, "https://shop.example:99999/x", {}),
        ({}, "ftp://files.example/", {}),
    ],
)
def test_oversized_broken_or_hostile_values_are_cut_never_refused(
    client: Any, store: Store, query: dict[str, str], referer: str, expected: dict[str, str]
) -> None:
    shopper = arrive(client, query, referer)
    page = shopper.fill("vehicle", **VEHICLE)
    assert page.status_code == 200 and "<script>" not in page.text
    row = {k: v for k, v in stored(store, shopper.draft_id).items() if v is not None}
    assert row == expected


def test_a_tampered_source_field_is_checked_again_and_never_breaks_the_save(
    client: Any, store: Store
) -> None:
    shopper = Shopper(client)
    shopper.start()
    for tampered in ("%ff%fe", "a=" + "b" * 1900, "referrer=javascript:x&src=" + "y" * 80, "&&&="):
        fresh = Shopper(client)
        fresh.start()
        page = fresh.fill("vehicle", source=tampered, **VEHICLE)
        assert page.status_code == 200, unescape(page.text)[:300]
        row = stored(store, fresh.draft_id)
        assert row["referrer"] is None and (row["src"] is None or len(row["src"]) == 64)


def test_the_label_reads_as_staff_would_say_it() -> None:
    assert source.label({"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "s"}) == (
        "google / cpc · s"
    )
    assert source.label({"src": "vdp"}) == "vdp"
    assert source.label({"referrer": "https://cars.example"}) == "https://cars.example"
    assert source.label({}) == ""


def test_what_the_first_page_carries_always_fits_a_post(client: Any, store: Store) -> None:
    # Every value at its longest, in characters that grow ninefold when percent-encoded.
    wide = "\u8eca"
    query = {name: wide * 200 for name in ("utm_source", "utm_medium", "utm_campaign", "src")}
    query["page"] = "https://www.demo-motors.example/" + "%E8%BB%8A" * 50
    shopper = arrive(client, query, referer="https://www.demo-motors.example/")
    page = shopper.fill("vehicle", **VEHICLE)
    assert page.status_code == 200, unescape(page.text)[:300]
    row = stored(store, shopper.draft_id)
    assert row["utm_source"] == wide * 100 and row["referrer"] == "https://www.demo-motors.example"


def test_a_hand_made_source_field_past_a_posts_limit_is_a_clear_413(
    client: Any, store: Store
) -> None:
    shopper = Shopper(client)
    shopper.start()
    response = shopper.fill("vehicle", source="src=" + "y" * 3000, **VEHICLE)
    assert response.status_code == 413
    assert store.rows("SELECT id FROM drafts") == []


def test_staff_see_where_the_shopper_came_from(client: Any, settings: Any, store: Store) -> None:
    from conftest import Staff, save_for_later

    shopper = arrive(
        client,
        {"utm_source": "facebook", "utm_medium": "social", "src": "inventory-grid"},
        referer="https://www.demo-motors.example/used",
    )
    shopper.fill("vehicle", **VEHICLE)
    draft_id = shopper.draft_id
    save_for_later(shopper, "pat@example.com")
    (lead,) = store.rows("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)
    manager = Staff.active(client, settings, "morgan@demo-motors.example", "manager")
    page = unescape(manager.get(f"/dashboard/leads/{lead['lead_id']}").text)
    assert "Came from:</strong> facebook / social · inventory-grid" in page
