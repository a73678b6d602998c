"""The response clock's business minutes (resume.calc.business): worked examples, and any
span against a count made minute by minute on the dealership's wall clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from resume.calc.business import DAYS, business_minutes

CHICAGO = "America/Chicago"
HOURS = {**{d: (9, 20) for d in DAYS[:6]}, "sun": (11, 17)}


def at(text: str, zone: str = CHICAGO) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_a_lead_left_on_saturday_night_and_called_on_monday_waited_ten_minutes() -> None:
    # 2026-11-28 is a Saturday; Sunday's 11 to 5 counts, closed Saturday night does not.
    minutes = business_minutes(at("2026-11-28T21:00"), at("2026-11-30T09:10"), HOURS, CHICAGO)
    assert minutes == 6 * 60 + 10


def test_closed_days_and_spans_that_do_not_go_forward_count_nothing() -> None:
    weekdays = {d: (9, 17) for d in DAYS[:5]}
    assert business_minutes(at("2026-11-28T08:00"), at("2026-11-29T23:00"), weekdays, CHICAGO) == 0
    start = at("2026-11-30T10:00")
    assert business_minutes(start, start, HOURS, CHICAGO) == 0
    assert business_minutes(start, start - dt.timedelta(hours=3), HOURS, CHICAGO) == 0


def test_a_day_open_round_the_clock_is_as_long_as_daylight_saving_makes_it() -> None:
    always = {d: (0, 24) for d in DAYS}
    # 2026-11-01: clocks go back in Chicago, a 25-hour day; 2026-03-08 forward, 23 hours.
    assert business_minutes(at("2026-11-01T00:00"), at("2026-11-02T00:00"), always, CHICAGO) == (
        25 * 60
    )
    assert business_minutes(at("2026-03-08T00:00"), at("2026-03-09T00:00"), always, CHICAGO) == (
        23 * 60
    )


def test_whole_weeks_and_sixty_days_of_an_uncalled_lead() -> None:
    week = 6 * 11 * 60 + 6 * 60  # six days of 9 to 8, and Sunday's 11 to 5
    # Monday 2 November to Monday 30 November 2026, 9 am: four whole weeks.
    assert business_minutes(at("2026-11-02T09:00"), at("2026-11-30T09:00"), HOURS, CHICAGO) == (
        4 * week
    )
    # Sixty days, the clocks going back on the way (1 November).
    start = at("2026-10-01T12:00")
    end = start + dt.timedelta(days=60)
    assert business_minutes(start, end, HOURS, CHICAGO) == by_the_minute(start, end, HOURS, CHICAGO)


def by_the_minute(start: dt.datetime, end: dt.datetime, hours: dict[str, tuple[int, int]],
                  zone: str) -> int:  # fmt: skip
    """Each whole minute from `start`, counted if the wall clock then is within the day's
    hours: slow, and plainly right."""
    local, count, minute = ZoneInfo(zone), 0, start
    while minute + dt.timedelta(minutes=1) <= end:
        wall = minute.astimezone(local)
        opening = hours.get(DAYS[wall.weekday()])
        if opening is not None and opening[0] <= wall.hour < opening[1]:
            count += 1
        minute += dt.timedelta(minutes=1)
    return count


@given(
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC)
    ),
    length=st.integers(min_value=0, max_value=6 * 24 * 60),
    hours=st.dictionaries(
        st.sampled_from(DAYS),
        st.tuples(st.integers(0, 23), st.integers(1, 24)).filter(lambda h: h[0] < h[1]),
    ),
    zone=st.sampled_from([CHICAGO, "America/New_York", "America/Los_Angeles", "UTC"]),
)
def test_any_span_matches_a_count_minute_by_minute(
    start: dt.datetime, length: int, hours: dict[str, tuple[int, int]], zone: str
) -> None:
    end = start + dt.timedelta(minutes=length)
    assert business_minutes(start, end, hours, zone) == by_the_minute(start, end, hours, zone)


@settings(max_examples=30, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC)
    ),
    length=st.integers(min_value=6 * 24 * 60, max_value=40 * 24 * 60),
    hours=st.dictionaries(
        st.sampled_from(DAYS),
        st.tuples(st.integers(0, 23), st.integers(1, 24)).filter(lambda h: h[0] < h[1]),
    ),
    zone=st.sampled_from([CHICAGO, "America/New_York", "America/Los_Angeles", "UTC"]),
)
def test_spans_of_weeks_match_a_count_minute_by_minute(
    start: dt.datetime, length: int, hours: dict[str, tuple[int, int]], zone: str
) -> None:
    # Past a week the whole weeks inside are counted at once (a year-old uncalled lead on
    # the list): they must come to what the minutes do, daylight saving time and all.
    end = start + dt.timedelta(minutes=length)
    assert business_minutes(start, end, hours, zone) == by_the_minute(start, end, hours, zone)
