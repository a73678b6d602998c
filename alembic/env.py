"""Alembic environment: one set of migrations for SQLite and PostgreSQL (design rule 8).

`resume migrate` sets sqlalchemy.url from RESUME_DATABASE_URL; there is no alembic.ini.
"""

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from resume.migrations import compare_type
from resume.tables import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_migrate(config.get_main_option("sqlalchemy.url")))
