"""Coverage calendars: when the SLA clock runs.

A calendar is data: a time zone, working intervals per weekday (local wall times),
an optional holiday set from the `holidays` package, extra closed dates and special
hours for single dates. Business-time arithmetic (see `business_time.py`) never looks
at wall times itself; it reads the calendar's *timeline*: the working intervals as
UTC epoch seconds with the working seconds elapsed before each one, built per year
on first use and cached.

Wall time to instant: a boundary time `x` on local date `d` is the first instant whose
local reading is at or after `d x`. So an ambiguous time (autumn fall-back) is its first
occurrence, and a time that does not exist (spring-forward gap) is the moment the clocks
change. A whole day `00:00-24:00` is therefore 23 or 25 real hours on a DST day.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400
# How far a deadline may lie beyond its start before we call the calendar empty.
MAX_YEARS_AHEAD = 200

Hours = tuple[tuple[int, int], ...]
"""Working intervals of one day: (start, end) in seconds after local midnight, end <= 86400."""


@dataclass(frozen=True)
class HolidaySet:
    """Public holidays from the `holidays` package: a country and optional subdivision."""

    country: str
    subdivision: str | None = None

    def dates(self, year: int) -> frozenset[date]:
        import holidays

        found = holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
        return frozenset(found.keys())


class Calendar:
    """A coverage clock. Build it with weekly hours; ask it for working intervals."""

    def __init__(
        self,
        id: str,
        *,
        time_zone: str,
        weekly_hours: Mapping[str, Iterable[tuple[int, int]]],
        holidays: HolidaySet | None = None,
        extra_holidays: Iterable[date] = (),
        special_hours: Mapping[date, Iterable[tuple[int, int]]] | None = None,
        description: str = "",
    ) -> None:
        self.id = id
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self.weekly_hours: tuple[Hours, ...] = tuple(
            _normalise(weekly_hours.get(day, ())) for day in WEEKDAYS
        )
        if not any(self.weekly_hours):
            raise ValueError(f"calendar {id} has no working hours in its week")
        self.holidays = holidays
        self.extra_holidays = frozenset(extra_holidays)
        self.special_hours: dict[date, Hours] = {
            day: _normalise(hours) for day, hours in (special_hours or {}).items()
        }
        self.description = description
        self._business_day_calendar: Calendar | None = None
        self._holiday_years: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()
        # The latest timeline built (None before first use). Read it; never assign it.
        self.current_timeline: Timeline | None = None

    def __repr__(self) -> str:
        return f"<Calendar {self.id} {self.time_zone}>"

    # --- the business-day calendar -------------------------------------------------

    @property
    def business_day_calendar(self) -> Calendar:
        """The calendar on which "N business days" are counted (this one unless linked)."""
        return self._business_day_calendar or self

    def count_business_days_on(self, other: Calendar) -> None:
        """Link the business-day calendar; done once by the policy loader."""
        self._business_day_calendar = None if other is self else other

    # --- days ------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return True
        if self.holidays is None:
            return False
        dates = self._holiday_years.get(day.year)
        if dates is None:
            dates = self._holiday_years[day.year] = self.holidays.dates(day.year)
        return day in dates

    def hours_on(self, day: date) -> Hours:
        """The working intervals of one local date (special hours win over holidays)."""
        special = self.special_hours.get(day)
        if special is not None:
            return special
        if self.is_holiday(day):
            return ()
        return self.weekly_hours[day.weekday()]

    def wall_to_epoch(self, day: date, seconds: int) -> int:
        """First instant (epoch seconds) whose local reading is at or after `day` + `seconds`."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        wall = midnight + timedelta(seconds=seconds)  # wall-clock arithmetic, fold=0
        instant = int(wall.timestamp())
        if datetime.fromtimestamp(instant, self.zone).replace(tzinfo=None) == wall.replace(
            tzinfo=None
        ):
            return instant
        return self._transition_after(int(wall.replace(fold=1).timestamp()), instant)

    def _transition_after(self, low: int, high: int) -> int:
        """The instant in (low, high] where the UTC offset changes (a spring-forward gap)."""
        before = datetime.fromtimestamp(low, self.zone).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).utcoffset() == before:
                low = middle
            else:
                high = middle
        return high

    # --- the timeline ----------------------------------------------------------------

    def timeline_for(self, instant: int) -> Timeline:
        """A timeline covering `instant` (the hot path: usually the cached one)."""
        current = self.current_timeline
        if current is not None and current.low <= instant < current.high:
            return current
        return self.timeline(instant)

    def timeline(self, *instants: int) -> Timeline:
        """A timeline covering the given epoch seconds (with at least a year to spare)."""
        current = self.current_timeline
        if current is not None and all(current.covers(t) for t in instants):
            return current
        with self._lock:
            current = self.current_timeline
            years = {datetime.fromtimestamp(t, UTC).year for t in instants}
            first, last = min(years) - 1, max(years) + 1
            if current is not None:
                first, last = min(first, current.first_year), max(last, current.last_year)
            self.current_timeline = Timeline.build(self, first, last)
            return self.current_timeline

    def extend(self, timeline: Timeline) -> Timeline:
        """A timeline reaching further into the future than `timeline`."""
        years = timeline.last_year - timeline.first_year + 1
        if timeline.last_year - timeline.first_year > MAX_YEARS_AHEAD:
            raise ValueError(
                f"calendar {self.id} has no working time left after {timeline.last_year}"
            )
        with self._lock:
            current = self.current_timeline or timeline
            if current.last_year > timeline.last_year:
                return current
            self.current_timeline = Timeline.build(
                self, current.first_year, current.last_year + years
            )
            return self.current_timeline


def _normalise(hours: Iterable[tuple[int, int]]) -> Hours:
    return tuple(sorted((int(start), int(end)) for start, end in hours if end > start))


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity (cache keys)
class Timeline:
    """Working intervals of whole local years as parallel arrays of epoch seconds.

    `pos` is the number of working seconds since the timeline's first interval; it is
    what deadlines and durations are computed with:
    business_time_between(a, b) = pos(b) - pos(a) and deadline = the instant where
    pos reaches pos(start) + budget. Intervals that touch are merged, so every gap
    between `ends[i]` and `starts[i + 1]` is real non-working time.
    """

    first_year: int
    last_year: int
    low: int  # first instant covered (local midnight, January 1 of first_year)
    high: int  # first instant not covered
    starts: list[int]
    ends: list[int]
    pos_at_start: list[int]
    pos_at_end: list[int]
    # Working days of the calendar (local dates with working time), in pos terms.
    day_pos_start: list[int]
    day_pos_end: list[int]

    def covers(self, instant: int) -> bool:
        return self.low <= instant < self.high

    @classmethod
    def build(cls, calendar: Calendar, first_year: int, last_year: int) -> Timeline:
        builder = _Builder()
        day = date(first_year, 1, 1)
        end = date(last_year + 1, 1, 1)
        one_day = timedelta(days=1)
        while day < end:
            builder.add_day(day, calendar.hours_on(day), calendar.wall_to_epoch)
            day += one_day
        return cls(
            first_year=first_year,
            last_year=last_year,
            low=calendar.wall_to_epoch(date(first_year, 1, 1), 0),
            high=calendar.wall_to_epoch(end, 0),
            starts=builder.starts,
            ends=builder.ends,
            pos_at_start=builder.pos_at_start,
            pos_at_end=builder.pos_at_end,
            day_pos_start=builder.day_pos_start,
            day_pos_end=builder.day_pos_end,
        )

    def index_after(self, instant: int) -> int:
        """Index of the first interval ending after `instant` (len(ends) if none)."""
        return bisect_right(self.ends, instant)


class _Builder:
    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.pos_at_start: list[int] = []
        self.pos_at_end: list[int] = []
        self.day_pos_start: list[int] = []
        self.day_pos_end: list[int] = []
        self.pos = 0

    def add_day(self, day: date, hours: Hours, to_epoch: Callable[[date, int], int]) -> None:
        day_start = self.pos
        for start_seconds, end_seconds in hours:
            start, end = to_epoch(day, start_seconds), to_epoch(day, end_seconds)
            if end > start:  # an interval inside a DST gap is empty
                self._add(start, end)
        if self.pos > day_start:
            self.day_pos_start.append(day_start)
            self.day_pos_end.append(self.pos)

    def _add(self, start: int, end: int) -> None:
        if self.ends and self.ends[-1] == start:
            self.ends[-1] = end
            self.pos_at_end[-1] += end - start
        else:
            self.starts.append(start)
            self.ends.append(end)
            self.pos_at_start.append(self.pos)
            self.pos_at_end.append(self.pos + end - start)
        self.pos += end - start
