"""Migrations create exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import run

from resume.db import Database
from resume.migrations import migrate
from resume.tables import metadata


def test_migrated_schema_matches_the_tables(settings: Any) -> None:
    async def differences() -> list[Any]:
        db = Database(settings)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await db.dispose()

    assert run(differences()) == []


def test_migrating_twice_changes_nothing(settings: Any) -> None:
    migrate(settings)
    migrate(settings)
