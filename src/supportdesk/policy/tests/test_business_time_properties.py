"""Property tests: the engine against the independent oracle, and against itself.

Calendars are random (0-3 intervals per weekday on quarter hours, whole days, closed
dates, special hours) in zones with DST changes (New York, Berlin, Sao Paulo in 2018
when it still had DST, Lord Howe's 30-minute shift) and without; starts cluster
around the DST changes. Starts and budgets are whole seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from supportdesk.policy import (
    BusinessDays,
    Calendar,
    business_time_between,
    deadline_after,
    deadline_before,
    deadlines_after,
    deadlines_after_epoch,
)
from supportdesk.policy.calendar import WEEKDAYS
from supportdesk.policy.tests import oracle

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
DST_CHANGES = [
    date(2018, 3, 11),
    date(2018, 11, 4),  # New York
    date(2018, 3, 25),
    date(2018, 10, 28),  # Berlin
    date(2018, 2, 18),
    date(2018, 11, 4),  # Sao Paulo (00:00 changes)
    date(2018, 4, 1),
    date(2018, 10, 7),  # Lord Howe (30 min)
    date(2018, 12, 31),  # a year boundary
]
QUARTER = 900
PROPERTY = settings(deadline=None, max_examples=80)


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    if draw(st.integers(0, 5)) == 0:
        return ((0, 86_400),)  # a whole day: touches the neighbours' whole days
    count = draw(st.integers(0, 3))
    cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2 * count, max_size=2 * count)))
    return tuple((cuts[2 * i] * QUARTER, cuts[2 * i + 1] * QUARTER) for i in range(count))


@st.composite
def calendars(draw: st.DrawFn) -> tuple[Calendar, oracle.OracleCalendar, datetime]:
    zone = draw(st.sampled_from(ZONES))
    weekly = tuple(draw(day_ranges()) for _ in WEEKDAYS)
    assume(any(weekly))
    start = draw(starts())
    first_day = start.date()
    closed = frozenset(
        first_day + timedelta(days=offset)
        for offset in draw(st.sets(st.integers(-2, 20), max_size=3))
    )
    special = {
        first_day + timedelta(days=offset): draw(day_ranges())
        for offset in draw(st.sets(st.integers(-2, 20), max_size=3))
    }
    ours = Calendar(
        "random",
        time_zone=zone,
        weekly_hours=dict(zip(WEEKDAYS, weekly, strict=True)),
        extra_holidays=closed,
        special_hours=special,
    )
    return ours, oracle.OracleCalendar(zone, weekly, closed, special), start


def starts() -> st.SearchStrategy[datetime]:
    # hypothesis takes naive bounds and attaches the zone given as `timezones`
    anywhere = st.datetimes(
        datetime(2017, 6, 1),  # noqa: DTZ001
        datetime(2020, 6, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
    near_dst = st.builds(
        lambda day, seconds: (
            datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
        ),
        st.sampled_from(DST_CHANGES),
        st.integers(-3 * 86_400, 3 * 86_400),
    )
    return st.one_of(anywhere, near_dst).map(lambda moment: moment.replace(microsecond=0))


def weekly_seconds(calendar: Calendar) -> int:
    return sum(end - start for day in calendar.weekly_hours for start, end in day)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@PROPERTY
@given(setup=calendars(), data=st.data())
def test_deadline_after_matches_the_oracle(setup: tuple, data: st.DataObject) -> None:
    calendar, slow, start = setup
    budget = data.draw(st.integers(0, 2 * weekly_seconds(calendar)))
    due = deadline_after(start, timedelta(seconds=budget), calendar)
    assert epoch(due) == oracle.deadline(slow, epoch(start), budget)
    assert due.tzinfo is UTC


@PROPERTY
@given(setup=calendars(), data=st.data())
def test_business_time_between_matches_the_oracle(setup: tuple, data: st.DataObject) -> None:
    calendar, slow, a = setup
    b = a + timedelta(seconds=data.draw(st.integers(-10 * 86_400, 10 * 86_400)))
    elapsed = business_time_between(a, b, calendar)
    assert elapsed == timedelta(seconds=oracle.between(slow, epoch(a), epoch(b)))


@PROPERTY
@given(setup=calendars(), data=st.data())
def test_deadline_after_and_business_time_between_invert_each_other(
    setup: tuple, data: st.DataObject
) -> None:
    calendar, _, start = setup
    budget = timedelta(seconds=data.draw(st.integers(0, 3 * weekly_seconds(calendar))))
    due = deadline_after(start, budget, calendar)
    assert business_time_between(start, due, calendar) == budget
    # ...and it is the earliest such instant: one second earlier the budget is not used up
    if budget:
        assert business_time_between(start, due - timedelta(seconds=1), calendar) < budget
    later = start + timedelta(seconds=data.draw(st.integers(0, 20 * 86_400)))
    elapsed = business_time_between(start, later, calendar)
    reached = deadline_after(start, elapsed, calendar)
    if elapsed:  # (a zero budget gives the first working moment, possibly after `later`)
        assert reached <= later
        assert business_time_between(reached, later, calendar) == timedelta(0)


@PROPERTY
@given(setup=calendars(), data=st.data())
def test_deadline_before_inverts_business_time_between(setup: tuple, data: st.DataObject) -> None:
    calendar, _, end = setup
    budget = timedelta(seconds=data.draw(st.integers(1, 2 * weekly_seconds(calendar))))
    begin = deadline_before(end, budget, calendar)
    assert business_time_between(begin, end, calendar) == budget
    assert business_time_between(begin + timedelta(seconds=1), end, calendar) < budget


@PROPERTY
@given(setup=calendars(), days=st.integers(0, 4))
def test_business_days_match_the_oracle(setup: tuple, days: int) -> None:
    calendar, slow, start = setup
    due = deadline_after(start, BusinessDays(days), calendar)
    assert epoch(due) == oracle.business_days(slow, epoch(start), days)


@PROPERTY
@given(setup=calendars(), data=st.data())
def test_the_batch_forms_give_the_one_at_a_time_results(setup: tuple, data: st.DataObject) -> None:
    calendar, _, start = setup
    offsets = data.draw(st.lists(st.integers(-5 * 86_400, 40 * 86_400), min_size=1, max_size=30))
    moments = [start + timedelta(seconds=offset) for offset in offsets]
    budget = timedelta(seconds=data.draw(st.integers(0, 2 * weekly_seconds(calendar))))
    one_by_one = [deadline_after(moment, budget, calendar) for moment in moments]
    assert deadlines_after(moments, budget, calendar) == one_by_one
    expected = [epoch(due) for due in one_by_one]
    epochs = [epoch(moment) for moment in moments]
    assert deadlines_after_epoch(epochs, budget, calendar) == expected
    assert (
        deadlines_after_epoch(np.array(epochs, dtype=np.int64), budget, calendar).tolist()
        == expected
    )
