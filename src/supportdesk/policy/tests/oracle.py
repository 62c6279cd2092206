"""A slow, independent business-time oracle for the property tests.

Written separately from the engine and sharing none of its code: working intervals
come from a brute-force search over minutes (the first instant whose local reading is
at or after a boundary time: the documented rule), and deadlines and durations from a
plain loop over those intervals. Boundaries must be whole minutes; starts and budgets
may be any whole number of seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

Ranges = tuple[tuple[int, int], ...]  # seconds after local midnight
SEARCH_BACK = 3 * 3600  # no zone changes its offset by more than 3 h at once


@dataclass
class OracleCalendar:
    zone: str
    weekly: tuple[Ranges, ...]  # Monday first
    closed: frozenset[date] = frozenset()
    special: dict[date, Ranges] = field(default_factory=dict)

    def ranges_on(self, day: date) -> Ranges:
        if day in self.special:
            return self.special[day]
        if day in self.closed:
            return ()
        return self.weekly[day.weekday()]

    def boundary(self, day: date, seconds: int) -> int:
        """First epoch second (a whole minute) whose local reading is >= day + seconds."""
        zone = ZoneInfo(self.zone)
        # a local wall reading: naive on purpose, compared with naive local readings
        wanted = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)  # noqa: DTZ001
        noon_offset = datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
        assert noon_offset is not None
        guess = int((wanted - noon_offset).replace(tzinfo=UTC).timestamp())
        instant = guess - SEARCH_BACK
        while datetime.fromtimestamp(instant, zone).replace(tzinfo=None) < wanted:
            instant += 60
        return instant

    def day_intervals(self, day: date) -> list[tuple[int, int]]:
        intervals = []
        for start, end in self.ranges_on(day):
            low, high = self.boundary(day, start), self.boundary(day, end)
            if high > low:
                intervals.append((low, high))
        return intervals

    def days_from(self, instant: int) -> Iterator[tuple[date, list[tuple[int, int]]]]:
        """(local date, its intervals) from the day before `instant`'s UTC date on."""
        day = datetime.fromtimestamp(instant, UTC).date() - timedelta(days=2)
        while True:
            yield day, self.day_intervals(day)
            day += timedelta(days=1)

    def intervals_from(self, instant: int) -> Iterator[tuple[int, int]]:
        for _, intervals in self.days_from(instant):
            yield from intervals


def deadline(calendar: OracleCalendar, start: int, budget: int) -> int:
    for low, high in calendar.intervals_from(start):
        if high <= start:
            continue
        begin = max(low, start)
        if budget == 0:
            return begin
        if budget <= high - begin:
            return begin + budget
        budget -= high - begin
    raise AssertionError("unreachable: the interval stream is endless")


def between(calendar: OracleCalendar, a: int, b: int) -> int:
    if b < a:
        return -between(calendar, b, a)
    total = 0
    for low, high in calendar.intervals_from(a):
        if low >= b:
            return total
        total += max(0, min(high, b) - max(low, a))
    raise AssertionError("unreachable")


def business_days(calendar: OracleCalendar, start: int, days: int) -> int:
    """The documented "N business days" rule, step by step."""
    moment = deadline(calendar, start, 0)
    if days == 0:
        return moment
    working_days = ((day, ivs) for day, ivs in calendar.days_from(start) if ivs)
    for _, intervals in working_days:
        if intervals[-1][1] > moment:
            into = sum(max(0, min(high, moment) - low) for low, high in intervals)
            break
    if into == 0:
        for _ in range(days - 1):
            _, intervals = next(working_days)
        return intervals[-1][1]
    for _ in range(days):
        _, intervals = next(working_days)
    for low, high in intervals:
        if into <= high - low:
            return low + into
        into -= high - low
    return intervals[-1][1]  # a shorter day: due at its close
