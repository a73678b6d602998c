"""A logo file kept by us and served from our own origin (issue #11, item 4): set from the
branding settings page (a plain multipart form) and with `resume dealer config --logo-file`,
served at an address holding its digest with a year's immutable cache, shown in the widget's
header, replaced, removed, every change audited; and the hostile or clumsy file refused with
a clear 4xx page, nothing stored changed.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest import Staff, Store
from test_cli import Resume
from test_dashboard_security import detail, other_dealer

from resume.logos import MAX_BYTES

SLUG = "demo-motors"
BRANDING = f"/dashboard/settings/{SLUG}/branding"
UPLOAD = f"/dashboard/settings/{SLUG}/logo"


def png(width: int = 4, height: int = 2) -> bytes:
    """A real PNG, built by hand: the signature, IHDR, one IDAT of blue pixels, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x0b\x5c\xad" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# The first bytes of a JPEG and a WebP are what is checked: these are not whole pictures.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8L" + b"\x00" * 40


@pytest.fixture
def admin(client: Any, settings: Any) -> Staff:
    """Demo Motors' admin, signed in, on the branding page (its form's CSRF token)."""
    person = Staff.active(client, settings, "ada.admin@demo-motors.example", "admin")
    assert person.get(BRANDING).status_code == 200
    return person


@pytest.fixture
def command(settings: Any, tmp_path: Path) -> Resume:
    """`resume ...` run against this test's database, where Demo Motors exists."""
    return Resume(settings.database_url, tmp_path)


def upload(
    admin: Staff, name: str, body: bytes, kind: str = "image/png", path: str = UPLOAD
) -> Any:
    """Send the logo form as a browser does: multipart, the file under `name`."""
    return admin.client.post(
        path,
        data={"csrf": admin.csrf},
        files={"logo": (name, body, kind)},
        follow_redirects=False,
    )


def kept(store: Store) -> list[dict[str, Any]]:
    return store.rows("SELECT dealer_id, content_type, sha256 FROM dealer_logos")


def audited(store: Store) -> list[dict[str, Any]]:
    rows = store.rows("SELECT detail FROM audit WHERE action = 'settings_changed' ORDER BY id")
    return [d for d in map(detail, rows) if "logo_file" in d.get("after", {})]


def header_logo(client: Any) -> str:
    """The src of the logo the payment widget's header shows, or "" for the dealer's name."""
    page = client.get(f"/embed/{SLUG}/payment")
    assert page.status_code == 200
    header = page.text.split('<header class="brand">')[1].split("</header>")[0]
    return header.split('src="')[1].split('"')[0] if 'class="logo"' in header else ""


def test_an_uploaded_logo_is_served_from_our_origin_and_shown_in_the_widget(
    admin: Staff, client: Any, store: Store
) -> None:
    assert header_logo(client) == ""
    image = png()
    done = upload(admin, "logo.png", image)
    assert done.status_code == 303, done.text[:500]
    assert done.headers["location"] == f"/dashboard/settings/{SLUG}?done=branding"
    digest = hashlib.sha256(image).hexdigest()
    assert kept(store) == [{"dealer_id": 1, "content_type": "image/png", "sha256": digest}]
    [entry] = audited(store)
    assert entry["before"] == {"logo_file": None}
    assert entry["after"] == {
        "logo_file": {"type": "image/png", "bytes": len(image), "sha256": digest}
    }
    assert entry["by"] == "dashboard" and entry["section"] == "branding"

    src = header_logo(client)
    assert src == f"/logo/{SLUG}/{digest[:16]}"
    page = client.get(f"/embed/{SLUG}/payment")
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    served = client.get(src)
    assert served.status_code == 200
    assert served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    # The branding page shows it, with its kind and size.
    page = admin.get(BRANDING)
    assert f'src="{src}"' in page.text and "a PNG file of" in page.text


def test_a_new_file_is_a_new_address_and_removing_it_brings_back_the_name(
    admin: Staff, client: Any, store: Store
) -> None:
    first, second = png(), JPEG
    assert upload(admin, "logo.png", first).status_code == 303
    old = header_logo(client)
    admin.get(BRANDING)
    assert upload(admin, "logo.jpg", second, "image/jpeg").status_code == 303
    new = header_logo(client)
    assert new != old and new.endswith(hashlib.sha256(second).hexdigest()[:16])
    assert client.get(old).status_code == 404
    assert client.get(new).headers["content-type"] == "image/jpeg"
    assert [r["content_type"] for r in kept(store)] == ["image/jpeg"]

    page = admin.get(BRANDING)
    assert "Remove the logo file" in page.text
    removed = admin.post(f"{UPLOAD}/remove", follow=False)
    assert removed.status_code == 303
    assert kept(store) == []
    assert header_logo(client) == ""
    assert client.get(new).status_code == 404
    steps = [(e["before"]["logo_file"], e["after"]["logo_file"]) for e in audited(store)]
    assert [(b and b["type"], a and a["type"]) for b, a in steps] == [
        (None, "image/png"),
        ("image/png", "image/jpeg"),
        ("image/jpeg", None),
    ]


def test_what_the_first_bytes_say_counts_not_the_name(admin: Staff, store: Store) -> None:
    """A PNG named .jpg is a PNG; an HTML page named .png is refused."""
    assert upload(admin, "logo.jpg", png(), "image/jpeg").status_code == 303
    assert kept(store)[0]["content_type"] == "image/png"
    admin.get(BRANDING)
    assert upload(admin, "logo.webp", WEBP, "image/webp").status_code == 303
    assert kept(store)[0]["content_type"] == "image/webp"


@pytest.mark.parametrize(
    ("name", "body", "status", "said"),
    [
        ("logo.png", b"<!doctype html><script>alert(1)</script>", 400, "not a PNG, JPEG or WebP"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', 400, "not a PNG, JPEG or WebP"),
        ("logo.png", b"GIF89a" + b"\x00" * 30, 400, "not a PNG, JPEG or WebP"),
        ("logo.png", b"", 400, "The file is empty"),
        ("logo.png", png()[:8], 400, "not a PNG, JPEG or WebP"),
        ("logo.png", png() + b"\x00" * MAX_BYTES, 413, "larger than 200 KB"),
    ],
)
def test_a_file_that_is_not_a_small_image_is_refused_and_nothing_changes(
    admin: Staff, client: Any, store: Store, name: str, body: bytes, status: int, said: str
) -> None:
    assert upload(admin, "logo.png", png()).status_code == 303
    before = kept(store)
    admin.get(BRANDING)
    refused = upload(admin, name, body)
    assert refused.status_code == status
    assert said in refused.text and "Nothing was saved." in refused.text
    assert 'id="logo-file"' in refused.text  # the form again, to choose another file
    assert kept(store) == before
    assert len(audited(store)) == 1
    assert client.get(header_logo(client)).status_code == 200


def test_a_body_far_past_the_limit_and_forms_without_their_file_are_refused(
    admin: Staff, client: Any, store: Store
) -> None:
    # Past the route's own limit: refused before it is read.
    assert upload(admin, "logo.png", png() + b"\x00" * (3 * MAX_BYTES)).status_code == 413
    no_file = admin.client.post(
        UPLOAD, data={"csrf": admin.csrf}, files={"other": ("a.png", png(), "image/png")}
    )
    assert no_file.status_code == 400
    chosen_none = admin.client.post(
        UPLOAD, data={"csrf": admin.csrf}, files={"logo": ("", b"", "application/octet-stream")}
    )
    assert chosen_none.status_code == 400 and "The file is empty" in chosen_none.text
    assert admin.client.post(UPLOAD, data={"csrf": admin.csrf}).status_code == 400
    forged = admin.client.post(UPLOAD, data={"csrf": "x"}, files={"logo": ("a.png", png())})
    assert forged.status_code == 403
    assert kept(store) == [] and audited(store) == []


def test_another_dealerships_admin_gets_a_404_and_changes_nothing(
    admin: Staff, client: Any, settings: Any, store: Store
) -> None:
    assert upload(admin, "logo.png", png()).status_code == 303
    before = kept(store)
    hilltop = other_dealer(settings)
    other = Staff.active(client, settings, "hal@hilltop.example", "admin", dealers=(hilltop,))
    assert other.get("/dashboard/settings/hilltop-ford/branding").status_code == 200
    assert upload(other, "mine.png", png(8, 8)).status_code == 404
    assert other.post(f"{UPLOAD}/remove", follow=False).status_code == 404
    assert kept(store) == before
    # Its own upload is its own: Demo Motors' logo stays as it was.
    other.get("/dashboard/settings/hilltop-ford/branding")
    path = "/dashboard/settings/hilltop-ford/logo"
    assert upload(other, "mine.png", png(8, 8), path=path).status_code == 303
    assert sorted(r["dealer_id"] for r in kept(store)) == [1, hilltop]
    assert [r for r in kept(store) if r["dealer_id"] == 1] == before
    # And no address serves one dealer's file under the other's name.
    digest = kept(store)[0]["sha256"][:16]
    assert client.get(f"/logo/hilltop-ford/{digest}").status_code == 404
    assert client.get(f"/logo/nobody/{digest}").status_code == 404


def test_a_sales_person_cannot_upload(client: Any, settings: Any, store: Store) -> None:
    sales = Staff.active(client, settings, "sam.sales@demo-motors.example", "sales")
    sales.get("/dashboard/leads")
    assert upload(sales, "logo.png", png()).status_code == 404
    assert kept(store) == []


def test_the_command_line_sets_and_removes_the_file(
    command: Resume, store: Store, tmp_path: Path
) -> None:
    resume = command
    path = tmp_path / "logo.jpg"  # a PNG by its bytes, whatever its name
    path.write_bytes(png())
    shown = resume.ok("dealer", "config", SLUG, "--logo-file", str(path))
    digest = hashlib.sha256(png()).hexdigest()
    assert f'"logo_file": "{digest}"' in shown
    assert kept(store) == [{"dealer_id": 1, "content_type": "image/png", "sha256": digest}]
    assert audited(store)[-1]["by"] == "command line"

    page = tmp_path / "logo.png"
    page.write_text("<html><body>not a logo</body></html>")
    said = resume.refused("dealer", "config", SLUG, "--logo-file", str(page))
    assert "not a PNG, JPEG or WebP" in said
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\x00" * MAX_BYTES)
    assert "larger than 200 KB" in resume.refused("dealer", "config", SLUG, "--logo-file", str(big))
    assert "can't read" in resume.refused(
        "dealer", "config", SLUG, "--logo-file", str(tmp_path / "missing.png")
    )
    assert kept(store)[0]["sha256"] == digest and len(audited(store)) == 1

    assert '"logo_file": null' in resume.ok("dealer", "config", SLUG, "--remove-logo-file")
    assert kept(store) == []
    assert audited(store)[-1]["after"] == {"logo_file": None}
