"""The group-committing writer: it acknowledges only committed saves and outlives failures."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from conftest import Store, run

from resume.autosave import Autosave, Save, View
from resume.db import Database
from resume.fields import Cleaned
from resume.keyring import Keyring


def _save(draft_id: str, **values: str) -> Save:
    return Save(
        draft_id=draft_id,
        dealer_id=1,
        widget="payment",
        version=0,
        new=True,
        step="vehicle",
        step_index=0,
        now=dt.datetime.now(dt.UTC),
        values={name: Cleaned(raw, raw) for name, raw in values.items()},
    )


def test_concurrent_saves_are_committed_together_and_each_acknowledged(
    settings: Any, store: Store
) -> None:
    async def go() -> list[int]:
        writer = Autosave(Database(settings), Keyring(settings.data_keys))
        await writer.start()
        try:
            states = await asyncio.gather(
                *(writer.save(_save(f"draft{i:03d}", make=f"M{i}")) for i in range(50))
            )
            return [s.revision for s in states]
        finally:
            await writer.stop()
            await writer.db.dispose()

    assert run(go()) == [1] * 50
    assert store.one("SELECT count(*) AS n FROM field_values")["n"] == 50
    assert store.one("SELECT count(*) AS n FROM drafts")["n"] == 50


def test_a_failing_batch_of_views_is_dropped_and_the_writer_goes_on(
    settings: Any, store: Store
) -> None:
    async def go() -> int:
        writer = Autosave(Database(settings), Keyring(settings.data_keys))
        await writer.start()
        try:
            # A view of a draft that does not exist breaks the events' foreign key.
            writer.record_view(
                View(1, "payment", "no-such-draft", "vehicle", dt.datetime.now(dt.UTC))
            )
            await asyncio.sleep(1.5)  # the writer flushes views within a second
            assert writer.running
            state = await writer.save(_save("after", make="Honda"))
            return state.revision
        finally:
            await writer.stop()
            await writer.db.dispose()

    assert run(go()) == 1
    assert store.values("after")["make"]["value"] == "Honda"


def test_one_bad_save_does_not_sink_the_others(settings: Any, store: Store) -> None:
    async def go() -> list[str]:
        writer = Autosave(Database(settings), Keyring(settings.data_keys))
        await writer.start()
        try:
            bad = _save("bad", make="X")
            bad.dealer_id = 999  # no such dealer: the insert fails in the database
            outcomes = await asyncio.gather(
                writer.save(_save("good", make="Kia")), writer.save(bad), return_exceptions=True
            )
            return [type(o).__name__ for o in outcomes]
        finally:
            await writer.stop()
            await writer.db.dispose()

    assert run(go()) == ["DraftState", "Unavailable"]
    assert store.values("good")["make"]["value"] == "Kia"
