"""The team page's arithmetic (issue #10, item 3): one row's figures from its counts, its
response times and its callbacks; the shares as the page shows them; and each figure's link
to the lead list behind it. resume.dashboard.team reads the range and lays the rows out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from urllib.parse import urlencode

import msgspec
from markupsafe import Markup, escape

from resume.queries.team import ATTEMPTS_TOP, Counted, Promised
from resume.templating import duration

WITHIN = (5, 15, 60)
ATTEMPT_BUCKETS = ATTEMPTS_TOP + 1  # 0, 1, 2, 3, 4, and 5 or more

# The lead list's filters (resume.web.dashboard.leads.listed and .drill), and the values it
# takes for each (None: any). A figure links to its leads only with filters the list
# understands, so a link never lands on a list that silently shows more, or refuses the
# address.
LIST_FILTERS: dict[str, frozenset[str] | None] = {
    "dealer": None,
    "dealers": None,
    "since": None,
    "until": None,
    "status": None,
    "owner": frozenset({"unassigned"}),
    "rep": None,
    "attempted": frozenset({"0"}),
    "response": frozenset(str(m) for m in WITHIN),
    "attempts": None,
    "reached": frozenset({"contacted", "appointment", "shown", "sold"}),
}


class Figures(msgspec.Struct, frozen=True):
    leads: int
    answered: int  # leads with a human attempt
    median: int | None  # business minutes, over the answered leads
    p90: int | None
    within: tuple[int, ...]  # answered within each of WITHIN minutes
    attempts: tuple[int, ...]  # leads with 0, 1, 2, 3, 4, 5+ attempts
    contacted: int
    appointment: int
    shown: int  # of the leads with an appointment set
    sold: int
    promised: int  # callbacks decided (done, or past their grace)
    kept: int

    @property
    def unanswered(self) -> int:
        return self.leads - self.answered

    @property
    def five(self) -> int:
        return self.attempts[-1]


class Tally:
    """Figures being counted, for one row."""

    def __init__(self) -> None:
        self.leads = 0
        self.minutes: list[int] = []  # business minutes to the first response, a lead each
        self.attempts = [0] * ATTEMPT_BUCKETS
        self.contacted = self.appointment = self.shown = self.sold = 0
        self.promised = self.kept = 0

    def add_counted(self, row: Counted) -> None:
        self.leads += row.n
        for bucket, n in enumerate(row.attempts):
            self.attempts[bucket] += n
        self.contacted += row.contacted
        self.appointment += row.appointment
        self.shown += row.shown
        self.sold += row.sold
        self.minutes.extend(row.minutes)

    def add_promised(self, row: Promised) -> None:
        self.promised += row.decided
        self.kept += row.kept

    def figures(self) -> Figures:
        ranked = sorted(self.minutes)
        return Figures(
            leads=self.leads,
            answered=len(ranked),
            median=nearest_rank(ranked, 0.5),
            p90=nearest_rank(ranked, 0.9),
            within=tuple(bisect.bisect_right(ranked, limit) for limit in WITHIN),
            attempts=tuple(self.attempts),
            contacted=self.contacted,
            appointment=self.appointment,
            shown=self.shown,
            sold=self.sold,
            promised=self.promised,
            kept=self.kept,
        )


def nearest_rank(ranked: Sequence[int], share: float) -> int | None:
    """The value at the nearest-rank percentile of an already sorted list; None if empty."""
    if not ranked:
        return None
    return ranked[max(1, math.ceil(share * len(ranked))) - 1]


def share(part: int, whole: int) -> str:
    """A share as the page shows it: whole percent, or a dash when there is nothing to share."""
    return f"{round(100 * part / whole)}%" if whole else "–"


def count(n: int, url: str) -> Markup:
    """A count as a cell shows it, linked to its leads when there are some to see."""
    return Markup(f'<a href="{escape(url)}">{n:,}</a>' if url and n else f"{n:,}")


def part(n: int, whole: int, url: str) -> Markup:
    """A count and its share of `whole`."""
    return Markup(f"{count(n, url)} <small>{share(n, whole)}</small>")


def minutes(value: int | None) -> str:
    """A response time, or a dash when there is none to give."""
    return "–" if value is None else duration(value)


def _listable(params: dict[str, str]) -> bool:
    for name, value in params.items():
        if name not in LIST_FILTERS:
            return False
        allowed = LIST_FILTERS[name]
        if allowed is not None and value not in allowed:
            return False
    return True


# Each figure's filters on top of its row's: the leads behind the figure.
_FIGURES: dict[str, dict[str, str]] = {
    "leads": {},
    "unanswered": {"attempted": "0"},
    **{f"within{m}": {"response": f"{m}"} for m in WITHIN},
    **{f"attempts{n}": {"attempts": f"{n}"} for n in range(ATTEMPT_BUCKETS)},
    "contacted": {"reached": "contacted"},
    "appointment": {"reached": "appointment"},
    "shown": {"reached": "shown"},
    "sold": {"reached": "sold"},
}


def links(base: dict[str, str] | None) -> dict[str, str]:
    """The drill-downs of one row, from the list filters that pick its leads (None: the row
    is a set of leads the list can't pick, such as two of three stores)."""
    if base is None or not _listable(base):
        return {name: "" for name in _FIGURES}
    # The row's part of the address is encoded once, not once per figure: a page of five
    # stores has some 25 rows of 15 figures (issue #10's bench).
    head = urlencode(base)
    out = {}
    for name, extra in _FIGURES.items():
        if not _listable(extra):
            out[name] = ""
            continue
        tail = urlencode(extra)
        out[name] = "/dashboard/leads?" + "&".join(part for part in (head, tail) if part)
    return out
