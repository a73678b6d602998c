"""Business time: how many minutes of a dealership's opening hours lie between two instants.

A lead captured at 9 pm on a Saturday and called at 9:10 am on Monday waited 10 business
minutes, not 36 hours: the response clock counts the hours the team is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def business_minutes(
    start: dt.datetime,
    end: dt.datetime,
    hours: Mapping[str, tuple[int, int]],
    timezone: str,
) -> int:
    """Whole minutes of opening hours between `start` and `end` (0 if end is not later).

    `hours` maps "mon".."sun" to (opening hour, closing hour) in the dealership's timezone;
    a day not in it is closed. Each day is measured on the local clock, so a day that
    daylight saving time shortens or lengthens is still counted by its opening hours.
    """
    if end <= start:
        return 0
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = dt.timedelta()
    day, last = local_start.date(), local_end.date()
    week = _week(tuple(sorted(hours.items())))
    while day <= last:
        if week is not None and day > local_start.date() and (last - day).days > 7:
            # Whole weeks between the first day and the last are all opening hours: an
            # uncalled lead from a year ago is 52 of them, not 365 days counted one by one.
            weeks = ((last - day).days - 1) // 7
            total += weeks * week
            day += dt.timedelta(days=7 * weeks)
            continue
        opening = hours.get(DAYS[day.weekday()])
        if opening is not None:
            open_at, close_at = _opening(day, opening, timezone)
            begin, finish = max(open_at, start), min(close_at, end)
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return int(total.total_seconds() // 60)


@lru_cache(maxsize=64)
def _week(hours: tuple[tuple[str, tuple[int, int]], ...]) -> dt.timedelta | None:
    """A whole week's opening hours on the local clock, or None if a day's hours take in the
    night's 1 to 3 am, when daylight saving time makes a day an hour longer or shorter (then
    every day is counted on its own)."""
    total = dt.timedelta()
    for _, (opens, closes) in hours:
        if opens < 3 and closes > 1:
            return None
        total += dt.timedelta(hours=min(closes, 24) - opens)
    return total


@lru_cache(maxsize=8192)
def _opening(
    day: dt.date, opening: tuple[int, int], timezone: str
) -> tuple[dt.datetime, dt.datetime]:
    """When a day's opening hours begin and end, in UTC. A list page asks for the same recent
    days for every lead on it, so they are worked out once (the zone arithmetic is the cost)."""
    zone = ZoneInfo(timezone)
    open_at = dt.datetime.combine(day, dt.time(opening[0]), tzinfo=zone)
    close_at = (
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        if opening[1] >= 24
        else dt.datetime.combine(day, dt.time(opening[1]), tzinfo=zone)
    )
    return open_at.astimezone(dt.UTC), close_at.astimezone(dt.UTC)
