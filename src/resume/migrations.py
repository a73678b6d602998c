"""Apply the alembic migrations shipped with the package, to SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import String, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from alembic import command
from resume.resources import data_dir
from resume.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(data_dir() / "alembic"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The schema revision this version of the package needs: the newest it ships."""
    config = Config()
    config.set_main_option("script_location", str(data_dir() / "alembic"))
    heads = ScriptDirectory.from_config(config).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(sorted(heads))


async def database_revision(conn: AsyncConnection) -> str:
    """The schema revision the database is at; "" before the first migration."""
    try:
        found = await conn.execute(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        return ""
    return ",".join(sorted(row[0] for row in found))


def migrate(settings: Settings, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    config = alembic_config(settings)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
        return
    # alembic's env.py runs its own event loop; inside a running one, give it a thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, config, revision).result()


def compare_type(
    context: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """How alembic compares a column's type with ours: as it does, except that on SQLite a
    VARCHAR's length is no difference, because SQLite keeps a string of any length in it.
    (A wider column is widened on PostgreSQL only, 0008: rebuilding SQLite's drafts table
    for it would change nothing and risk the rows that point at it.)"""
    if (
        context.dialect.name == "sqlite"
        and isinstance(inspected_type, String)
        and isinstance(metadata_type, String)
        and type(inspected_type.as_generic()) is type(metadata_type.as_generic())
    ):
        return False
    return None
