"""Apply the alembic migrations shipped with the package, to SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures

from alembic.config import Config

from alembic import command
from resume.resources import data_dir
from resume.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(data_dir() / "alembic"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


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
