"""Migrations create exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import Store, run
from sqlalchemy import inspect

from resume.db import Database
from resume.migrations import alembic_config, compare_type, migrate
from resume.tables import metadata


def test_migrated_schema_matches_the_tables(settings: Any) -> None:
    async def differences() -> list[Any]:
        db = Database(settings)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": compare_type}),
                        metadata,
                    )
                )
        finally:
            await db.dispose()

    assert run(differences()) == []


def test_migrating_twice_changes_nothing(settings: Any, store: Store) -> None:
    """A second `migrate` (every `resume serve` start runs one) leaves the schema, the
    revision and every row as they were."""
    schema_before = run(_schema(settings))
    rows_before = store.snapshot()
    revision = store.one("SELECT version_num FROM alembic_version")
    migrate(settings)
    migrate(settings)
    assert store.one("SELECT version_num FROM alembic_version") == revision
    assert revision["version_num"] == _head(settings)
    assert store.snapshot() == rows_before
    assert run(_schema(settings)) == schema_before
    assert rows_before["dealers"], "the seeded dealer is among the rows kept"


async def _schema(settings: Any) -> dict[str, Any]:
    """Every table's columns, indexes and unique constraints, as the database reports them."""
    db = Database(settings)
    try:
        async with db.engine.connect() as conn:

            def read(sync: Any) -> dict[str, Any]:
                found = inspect(sync)
                return {
                    table: (
                        [
                            (c["name"], str(c["type"]), c["nullable"])
                            for c in found.get_columns(table)
                        ],
                        sorted(
                            (i["name"], tuple(i["column_names"])) for i in found.get_indexes(table)
                        ),
                        sorted(
                            (u["name"] or "", tuple(u["column_names"]))
                            for u in found.get_unique_constraints(table)
                        ),
                    )
                    for table in sorted(found.get_table_names())
                }

            return await conn.run_sync(read)
    finally:
        await db.dispose()


def _head(settings: Any) -> str:
    """The newest revision the package ships."""
    return str(ScriptDirectory.from_config(alembic_config(settings)).get_current_head())


def test_every_vocabulary_fits_its_column() -> None:
    """PostgreSQL refuses a string longer than its column, where SQLite stores it: the
    dashboard's vocabularies are checked against theirs (the catalog checks widgets' names)."""
    from resume.leads import CHANNELS, LOST_REASONS, OUTCOMES, STATUSES
    from resume.staff.roles import ROLES
    from resume.tables import drafts, lead_activity, leads, staff

    written = [
        (STATUSES, leads.c.status),
        (STATUSES, drafts.c.lead_status),
        (LOST_REASONS, leads.c.lost_reason),
        (CHANNELS, lead_activity.c.channel),
        (OUTCOMES, lead_activity.c.outcome),
        (ROLES, staff.c.role),
    ]
    too_long = [
        (str(column), value)
        for values, column in written
        for value in values
        if len(value) > column.type.length
    ]
    assert not too_long
