"""Business time: how many minutes of a dealership's opening hours lie between two instants.

A lead captured at 9 pm on a Saturday and called at 9:10 am on Monday waited 10 business
minutes, not 36 hours: the response clock counts the hours the team is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    day = local_start.date()
    while day <= local_end.date():
        opening = hours.get(DAYS[day.weekday()])
        if opening is not None:
            open_at = dt.datetime.combine(day, dt.time(opening[0]), tzinfo=zone)
            close_at = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
                if opening[1] >= 24
                else dt.datetime.combine(day, dt.time(opening[1]), tzinfo=zone)
            )
            begin, finish = max(open_at, local_start), min(close_at, local_end)
            if finish > begin:
                total += finish.astimezone(dt.UTC) - begin.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
    return int(total.total_seconds() // 60)
