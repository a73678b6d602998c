"""The summary rows the numbers pages read instead of the leads and drafts: the team's
figures (team_counts) and the funnel's (funnel_counts, funnel_totals)."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, text

from resume.tables.base import metadata

# The rows of funnel_counts ix_funnel_counts_started holds; a query that reads it says so in
# these words (SQLite uses a partial index only for a WHERE it can see implies the index's).
STARTED = "kind = 'started'"

# The team page's figures (issue #10, item 5), kept as the leads they count change, in the
# same transaction (resume.queries.team_counts): a row per store, capture day on its clock and
# owner, so a range is read as a few rows a day, not a row a lead.
team_counts = Table(
    "team_counts",
    metadata,
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    # The lead's owner, 0 for nobody (a key can't be NULL); no foreign key for that reason.
    Column("owner", Integer, primary_key=True),
    Column("n", Integer, nullable=False, server_default="0"),
    # How many have had 0, 1, 2, 3, 4, and 5 or more attempts.
    *(Column(f"attempts_{k}", Integer, nullable=False, server_default="0") for k in range(6)),
    # How many ever reached each stage; shown counts those with an appointment set.
    Column("contacted", Integer, nullable=False, server_default="0"),
    Column("appointment", Integer, nullable=False, server_default="0"),
    Column("shown", Integer, nullable=False, server_default="0"),
    Column("sold", Integer, nullable=False, server_default="0"),
    # The business minutes each answered lead waited, comma-separated, in no order: a range's
    # median and 90th percentile are exact, read from these.
    Column("minutes", Text, nullable=False, server_default=""),
)

funnel_counts = Table(
    "funnel_counts",
    metadata,
    # The funnel's summary rows (issue #10, design rule 12): how many drafts of a cohort (a
    # dealership's widget, the day the drafts began, their source) reached each point, added
    # to in the transaction that records the moment, so a range is read from these rows and
    # never from the drafts. `kind` is started, reached (a step), exited (a step and the
    # field), captured, resumed, completed, or contacted, appointment, shown, sold (a lead's
    # stage, counted in the cohort of the draft that captured it). Each draft or lead is
    # counted once per kind and step: a second exit is not a second draft exiting.
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("widget", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("step", String(64), primary_key=True, server_default=""),
    Column("field", String(64), primary_key=True, server_default=""),
    Column("n", Integer, nullable=False),
    # The source list's counts (queries.funnel.sources): the drafts begun, by source, from
    # their rows alone. In the key, a range's rows of every kind lie between them: with every
    # draft's exit counted, five stores' 90 days of payment drafts at a million held 36,741
    # rows for 3,496 started ones. Partial, so only a draft's first save (its started row)
    # moves it; `kind` in it, so SQLite reads nothing else (5.4 -> 0.8 ms there).
    Index(
        "ix_funnel_counts_started",
        "dealer_id",
        "widget",
        "day",
        "source",
        "kind",
        "n",
        sqlite_where=text(STARTED),
        postgresql_where=text(STARTED),
    ),
)

funnel_totals = Table(
    "funnel_totals",
    metadata,
    # funnel_counts summed over the sources, added to in the same statement batch (issue #10):
    # a funnel of every source reads a row per point a day, not one per source as well (at a
    # million drafts the sources made a five-store, 90-day page read some 36,000 rows).
    Column("dealer_id", ForeignKey("dealers.id"), primary_key=True),
    Column("widget", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("step", String(64), primary_key=True, server_default=""),
    Column("field", String(64), primary_key=True, server_default=""),
    Column("n", Integer, nullable=False),
)
