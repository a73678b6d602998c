"""The funnel's summary rows (issue #10): counted as things happen, read by range.

A draft belongs to one cohort: its dealership, its widget, the day it began on the
dealership's clock, and its source's key. Each point of the funnel a draft reaches adds one to
its cohort's row for that point, in the transaction that records the moment (the autosave
batch, the exit detector, a status change), so a page reads a few rows a day and never scans
the drafts (design rule 12). Each draft is counted once per point: a draft that exits twice
is one draft that exited, at the step where it first left.

counting adds to the rows on the write path, reading sums them for the page, and recount
(`rebuild`) counts the same rows again from the drafts, events and leads themselves: for a
database that had drafts before the funnel existed, and as the check the tests hold the
running counts to.
"""

from resume.queries.funnel.counting import (
    STAGE_COLUMNS,
    STAGES,
    STATUS_STAGES,
    Key,
    bump,
    cohort_day,
    first_exit,
    reach_stages,
    source_key,
)
from resume.queries.funnel.reading import Count, read, sources, started_by_widget
from resume.queries.funnel.recount import COUNTED, counted, rebuild

__all__ = [
    "COUNTED",
    "STAGES",
    "STAGE_COLUMNS",
    "STATUS_STAGES",
    "Count",
    "Key",
    "bump",
    "cohort_day",
    "counted",
    "first_exit",
    "reach_stages",
    "read",
    "rebuild",
    "source_key",
    "sources",
    "started_by_widget",
]
