"""Facts about this installation, and the counters behind its limits."""

from sqlalchemy import Column, Integer, String, Table, Text

from resume.tables.base import Timestamp, metadata

meta = Table(
    "meta",
    metadata,
    # Facts about this installation, e.g. the sealed value that checks the data keys.
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

limits = Table(
    "limits",
    metadata,
    # Fixed-window counters kept in the database, so a limit holds across processes: failed
    # sign-ins per email and per address (and, later, the shopper-side limits of issue #12).
    Column("key", String(200), primary_key=True),
    Column("window_start", Timestamp(), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("blocked_until", Timestamp(), nullable=True),
)
