"""The widget catalog: every definition with its kind, and a widget added from outside.

The test folder's addon/ holds a fourth widget, a test-drive booking: its TOML, its kind and
its result template, and nothing else. That it works end to end, mail included, is the proof
that adding a widget needs nothing in src/ (issue #8).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from addon.drive_kind import DriveBooking
from conftest import Mailbox, Shopper, Store, deliver
from litestar.testing import TestClient

from resume.catalog import Catalog
from resume.definitions import load_widgets
from resume.errors import ConfigError
from resume.kinds import Kind, builtin_kinds
from resume.resources import data_dir
from resume.settings import Settings
from resume.web.app import create_app

ADDON = Path(__file__).parent / "addon"
OURS = data_dir() / "widgets"


@pytest.fixture
def catalog() -> Catalog:
    """Our widgets and the test-drive widget, with its kind and its templates."""
    return Catalog.load(
        [OURS, ADDON / "widgets"],
        kinds={**builtin_kinds(), "test-drive": DriveBooking()},
        templates=[ADDON / "templates"],
    )


def test_a_widget_added_from_outside_saves_finishes_and_alerts(
    settings: Settings, catalog: Catalog, store: Store, mailbox: Mailbox
) -> None:
    with TestClient(create_app(settings, catalog=catalog), base_url="http://127.0.0.1:8000") as c:
        shopper = Shopper(c, widget="test-drive")
        first = shopper.start()
        assert "When suits you?" in first.text and "Saturday" in first.text
        missing = shopper.fill("slot", day="saturday", model="")
        assert "Enter model." in shopper.errors(), missing.text
        shopper.fill("slot", day="saturday", model="RAV4")
        draft_id = shopper.draft_id
        booked = shopper.fill("contact", first_name="Pat", email="pat@example.com")
        assert booked.status_code == 200
        assert '<p id="booking">RAV4 on Saturday</p>' in booked.text

    draft = store.one("SELECT widget, status, email, step FROM drafts WHERE id = :d", d=draft_id)
    assert draft == {
        "widget": "test-drive",
        "status": "completed",
        "email": "pat@example.com",
        "step": "booked",
    }
    values = store.values(draft_id)
    assert {n: (v["value"], bool(v["valid"])) for n, v in values.items()} == {
        "day": ("saturday", True),
        "model": ("RAV4", True),
        "first_name": ("Pat", True),
        "email": ("pat@example.com", True),
    }
    assert ("completed", "contact", None) in store.events(draft_id)
    # The kind's moment alerts the team, in the kind's words, with the kind's facts.
    assert deliver(settings, mailbox.url, catalog=catalog) == 1
    (alert,) = mailbox.messages
    assert alert["Subject"] == "Demo Motors lead: a shopper booked a test drive (RAV4 on Saturday)"
    body = alert.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Test drive: RAV4 on Saturday" in body and "Name: Pat" in body


def test_our_widgets_each_have_their_kind() -> None:
    catalog = Catalog.load()
    assert sorted(catalog.widgets) == sorted(catalog.kinds) == ["credit", "payment", "trade-in"]
    assert all(kind.slug == slug for slug, kind in catalog.kinds.items())


def test_a_widget_without_a_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="widget 'test-drive' has no kind"):
        Catalog.load([OURS, ADDON / "widgets"])


def test_a_kind_without_a_widget_is_refused() -> None:
    with pytest.raises(ConfigError, match="kind 'test-drive' has no widget"):
        Catalog.load([OURS], kinds={**builtin_kinds(), "test-drive": DriveBooking()})


def test_a_kind_that_reads_a_field_its_widget_lacks_is_refused() -> None:
    class Nosy(DriveBooking):
        reads = frozenset({"day", "colour"})

    with pytest.raises(ConfigError, match="lacks fields its kind reads: colour"):
        Catalog.load([ADDON / "widgets"], kinds={"test-drive": Nosy()})


def test_a_consent_step_needs_a_kind_that_takes_the_agreement(tmp_path: Path) -> None:
    text = (ADDON / "widgets" / "test-drive.toml").read_text()
    folder = tmp_path / "widgets"
    folder.mkdir()
    (folder / "test-drive.toml").write_text(
        text.replace(
            'name = "booked"',
            'name = "terms"\ntitle = "Terms"\nkind = "consent"\n\n[[steps]]\nname = "booked"',
        )  # fmt: skip
    )
    assert [s.kind for s in load_widgets(folder)["test-drive"].steps][-2:] == ["consent", "result"]
    with pytest.raises(ConfigError, match="consent step its kind does not handle"):
        Catalog.load([folder], kinds={"test-drive": DriveBooking()})


def test_a_name_longer_than_its_column_is_refused(tmp_path: Path) -> None:
    """PostgreSQL would refuse the first save of it, where SQLite keeps it: refused at start."""
    text = (ADDON / "widgets" / "test-drive.toml").read_text()
    folder = tmp_path / "widgets"
    folder.mkdir()
    long = "the_first_name_of_the_shopper_who_would_like_to_book_a_test_drive_soon"
    (folder / "test-drive.toml").write_text(text.replace('name = "first_name"', f'name = "{long}"'))
    with pytest.raises(ConfigError, match=f"field '{long}' is longer than 64 characters"):
        Catalog.load([folder], kinds={"test-drive": DriveBooking()})


def test_an_unknown_widget_is_a_404_page(client: Any) -> None:
    page = client.get("/embed/demo-motors/test-drive")
    assert page.status_code == 404 and "no such form" in page.text


SLUGS = {"payment", "trade-in", "credit"}


def test_nothing_outside_the_kinds_compares_with_a_widget_slug() -> None:
    """Style rule 13: a branch on a widget's slug belongs in the widget's kind."""
    package = Path(__import__("resume").__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if "kinds" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                for operand in operands:
                    if isinstance(operand, ast.Constant) and operand.value in SLUGS:
                        found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []


def test_every_kind_hook_has_a_neutral_default() -> None:
    """A kind that overrides nothing is a working kind: the base class answers every hook."""
    plain = Kind()
    assert plain.check("any", {}) == {}
    assert plain.answer_moment({}) == ""
    assert plain.notice(None) is None  # type: ignore[arg-type]
    assert plain.moment_text("showroom") == "wants to finish at the dealership"
