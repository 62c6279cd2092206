"""Business time on named examples: SPEC §2, holidays, years, DST, precision, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.policy import (
    BusinessDays,
    Calendar,
    HolidaySet,
    business_time_between,
    deadline_after,
    deadline_before,
    deadlines_after,
    load_default_policy,
    working_intervals,
)

BRT = ZoneInfo("America/Sao_Paulo")
WEEKDAYS_8_20 = {day: [(8 * 3600, 20 * 3600)] for day in ("mon", "tue", "wed", "thu", "fri")}


def brt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BRT)


def local(moment: datetime, zone: ZoneInfo = BRT) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


@pytest.fixture
def clock_12x5() -> Calendar:
    return load_default_policy().calendars["12x5"]


@pytest.fixture
def clock_24x7() -> Calendar:
    return load_default_policy().calendars["24x7"]


def brazil_12x5() -> Calendar:
    return Calendar(
        "br", time_zone="America/Sao_Paulo", weekly_hours=WEEKDAYS_8_20, holidays=HolidaySet("BR")
    )


# --- SPEC §2, one example each -------------------------------------------------------


def test_one_business_day_on_12x5_is_one_full_working_day(clock_12x5: Calendar) -> None:
    # Friday 19:00 BRT on Support Standard: 1 h on Friday, 11 h on Monday
    due = deadline_after(brt("2026-11-27T19:00"), BusinessDays(1), clock_12x5)
    assert local(due) == "2026-11-30T19:00:00-03:00"


def test_one_business_day_on_24x7_from_friday_afternoon_is_monday_afternoon(
    clock_24x7: Calendar,
) -> None:
    due = deadline_after(brt("2026-11-27T15:00"), BusinessDays(1), clock_24x7)
    assert local(due) == "2026-11-30T15:00:00-03:00"


def test_one_business_day_on_24x7_from_saturday_is_tuesday_midnight(clock_24x7: Calendar) -> None:
    # the business-day clock starts Monday 00:00 and one whole day ends at Tuesday 00:00
    due = deadline_after(brt("2026-11-28T10:00"), BusinessDays(1), clock_24x7)
    assert local(due) == "2026-12-01T00:00:00-03:00"


def test_a_due_time_is_the_earliest_instant_the_budget_is_used_up(clock_12x5: Calendar) -> None:
    due = deadline_after(brt("2026-11-30T08:00"), timedelta(hours=12), clock_12x5)
    assert local(due) == "2026-11-30T20:00:00-03:00"  # not Tuesday 08:00


def test_a_ticket_opened_outside_coverage_counts_from_the_next_opening(
    clock_12x5: Calendar,
) -> None:
    due = deadline_after(brt("2026-11-28T10:00"), timedelta(hours=1), clock_12x5)
    assert local(due) == "2026-11-30T09:00:00-03:00"


def test_hours_on_24x7_run_through_nights_and_weekends(clock_24x7: Calendar) -> None:
    due = deadline_after(brt("2026-11-28T23:00"), timedelta(hours=2), clock_24x7)
    assert local(due) == "2026-11-29T01:00:00-03:00"


def test_minutes_are_a_budget_too(clock_24x7: Calendar) -> None:
    due = deadline_after(brt("2026-11-28T23:45"), timedelta(minutes=30), clock_24x7)
    assert local(due) == "2026-11-29T00:15:00-03:00"


# --- zero budgets, boundaries ---------------------------------------------------------


def test_a_zero_budget_is_the_first_working_moment(clock_12x5: Calendar) -> None:
    assert (
        local(deadline_after(brt("2026-11-30T10:00"), timedelta(0), clock_12x5))
        == "2026-11-30T10:00:00-03:00"
    )
    assert (
        local(deadline_after(brt("2026-11-30T06:00"), timedelta(0), clock_12x5))
        == "2026-11-30T08:00:00-03:00"
    )
    # the closing instant itself is not working time
    assert (
        local(deadline_after(brt("2026-11-30T20:00"), timedelta(0), clock_12x5))
        == "2026-12-01T08:00:00-03:00"
    )
    assert (
        local(deadline_after(brt("2026-11-28T10:00"), BusinessDays(0), clock_12x5))
        == "2026-11-30T08:00:00-03:00"
    )


def test_a_start_at_closing_time_counts_from_the_next_opening(clock_12x5: Calendar) -> None:
    due = deadline_after(brt("2026-11-30T20:00"), timedelta(hours=1), clock_12x5)
    assert local(due) == "2026-12-01T09:00:00-03:00"


# --- holidays, years ------------------------------------------------------------------


def test_national_holidays_from_the_holidays_package_are_closed() -> None:
    calendar = brazil_12x5()
    assert calendar.is_holiday(date(2026, 4, 21))  # Tiradentes, a Tuesday
    due = deadline_after(brt("2026-04-20T19:00"), timedelta(hours=2), calendar)
    assert local(due) == "2026-04-22T09:00:00-03:00"


def test_a_subdivision_adds_its_own_holidays() -> None:
    sao_paulo = Calendar(
        "sp",
        time_zone="America/Sao_Paulo",
        weekly_hours=WEEKDAYS_8_20,
        holidays=HolidaySet("BR", "SP"),
    )
    assert sao_paulo.is_holiday(date(2026, 7, 9))  # Constitutionalist Revolution (SP only)
    assert not brazil_12x5().is_holiday(date(2026, 7, 9))


def test_extra_holidays_and_special_hours_change_single_dates() -> None:
    calendar = Calendar(
        "x",
        time_zone="America/Sao_Paulo",
        weekly_hours=WEEKDAYS_8_20,
        extra_holidays=[date(2026, 12, 24)],
        special_hours={date(2026, 12, 31): [(8 * 3600, 12 * 3600)]},
    )
    assert (
        local(deadline_after(brt("2026-12-23T19:00"), timedelta(hours=2), calendar))
        == "2026-12-25T09:00:00-03:00"
    )
    assert (
        local(deadline_after(brt("2026-12-31T11:00"), timedelta(hours=2), calendar))
        == "2027-01-01T09:00:00-03:00"
    )


def test_deadlines_cross_the_year_and_its_holidays() -> None:
    # Thursday 2026-12-31 19:00: 1 h that day, New Year's Day is a holiday, then Monday
    due = deadline_after(brt("2026-12-31T19:00"), timedelta(hours=3), brazil_12x5())
    assert local(due) == "2027-01-04T10:00:00-03:00"


def test_long_budgets_reach_years_ahead(clock_12x5: Calendar) -> None:
    due = deadline_after(brt("2026-01-05T08:00"), timedelta(hours=12 * 261 * 3), clock_12x5)
    assert due.year == 2029
    assert business_time_between(brt("2026-01-05T08:00"), due, clock_12x5) == timedelta(
        hours=12 * 261 * 3
    )


def test_starts_far_in_the_past_and_future_work(clock_12x5: Calendar) -> None:
    assert (
        local(deadline_after(brt("1995-06-02T19:30"), timedelta(hours=1), clock_12x5))
        == "1995-06-05T08:30:00-03:00"
    )
    assert (
        local(deadline_after(brt("2090-06-02T19:30"), timedelta(hours=1), clock_12x5))
        == "2090-06-05T08:30:00-03:00"
    )


# --- DST ------------------------------------------------------------------------------


def test_a_whole_day_at_the_spring_change_is_23_hours() -> None:
    new_york = ZoneInfo("America/New_York")
    every_day = {day: [(0, 86_400)] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    calendar = Calendar("ny", time_zone="America/New_York", weekly_hours=every_day)
    start = datetime(2026, 3, 8, tzinfo=new_york)
    assert business_time_between(
        start, datetime(2026, 3, 9, tzinfo=new_york), calendar
    ) == timedelta(hours=23)
    assert (
        local(deadline_after(start, timedelta(hours=24), calendar), new_york)
        == "2026-03-09T01:00:00-04:00"
    )


def test_office_hours_keep_their_wall_times_across_the_autumn_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    office = {day: [(9 * 3600, 17 * 3600)] for day in ("mon", "tue", "wed", "thu", "fri")}
    calendar = Calendar("berlin", time_zone="Europe/Berlin", weekly_hours=office)
    due = deadline_after(datetime(2026, 10, 23, 16, tzinfo=berlin), timedelta(hours=2), calendar)
    assert local(due, berlin) == "2026-10-26T10:00:00+01:00"
    assert due == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_sao_paulo_2018_dst_starting_at_midnight_is_handled_by_the_zone_database(
    clock_24x7: Calendar,
) -> None:
    # 2018-11-04 00:00 BRT became 01:00 BRST: that Sunday had 23 hours
    assert business_time_between(
        brt("2018-11-03T12:00"), brt("2018-11-04T12:00"), clock_24x7
    ) == timedelta(hours=23)
    due = deadline_after(brt("2018-11-03T12:00"), timedelta(hours=24), clock_24x7)
    assert local(due) == "2018-11-04T13:00:00-02:00"
    # Saturday + 1 business day: Monday 00:00 to Tuesday 00:00, in summer time
    assert (
        local(deadline_after(brt("2018-11-03T10:00"), BusinessDays(1), clock_24x7))
        == "2018-11-06T00:00:00-02:00"
    )


# --- precision, directions, intervals --------------------------------------------------


def test_microseconds_are_kept_exactly(clock_24x7: Calendar, clock_12x5: Calendar) -> None:
    start = datetime(2026, 11, 30, 13, 0, 0, 123_456, tzinfo=UTC)
    assert deadline_after(start, timedelta(hours=1), clock_24x7) == start + timedelta(hours=1)
    late = brt("2026-11-30T19:59:59.500000")
    assert local(deadline_after(late, timedelta(seconds=1), clock_12x5)).startswith(
        "2026-12-01T08:00:00"
    )
    assert deadline_after(late, timedelta(seconds=1), clock_12x5).microsecond == 500_000
    early = brt("2026-11-30T07:59:59.500000")
    assert deadline_after(early, timedelta(0), clock_12x5) == brt("2026-11-30T08:00")


def test_results_are_aware_utc_whatever_the_input_zone(clock_12x5: Calendar) -> None:
    due = deadline_after(
        datetime(2026, 11, 30, 20, tzinfo=ZoneInfo("Asia/Tokyo")), timedelta(hours=1), clock_12x5
    )
    assert due.tzinfo is UTC
    assert local(due) == "2026-11-30T09:00:00-03:00"


def test_business_time_between_is_negative_backwards(clock_12x5: Calendar) -> None:
    a, b = brt("2026-11-27T19:00"), brt("2026-11-30T09:00")
    assert business_time_between(a, b, clock_12x5) == timedelta(hours=2)
    assert business_time_between(b, a, clock_12x5) == -timedelta(hours=2)
    assert business_time_between(
        brt("2026-11-28T01:00"), brt("2026-11-29T23:00"), clock_12x5
    ) == timedelta(0)


def test_deadline_before_counts_backwards(clock_12x5: Calendar) -> None:
    assert (
        local(deadline_before(brt("2026-11-30T09:00"), timedelta(hours=2), clock_12x5))
        == "2026-11-27T19:00:00-03:00"
    )
    assert (
        local(deadline_before(brt("2026-11-29T10:00"), timedelta(0), clock_12x5))
        == "2026-11-27T20:00:00-03:00"
    )


def test_working_intervals_are_clipped_to_the_window(clock_12x5: Calendar) -> None:
    intervals = list(
        working_intervals(clock_12x5, brt("2026-11-27T19:00"), brt("2026-11-30T10:00"))
    )
    assert [(local(a), local(b)) for a, b in intervals] == [
        ("2026-11-27T19:00:00-03:00", "2026-11-27T20:00:00-03:00"),
        ("2026-11-30T08:00:00-03:00", "2026-11-30T10:00:00-03:00"),
    ]


def test_the_batch_form_handles_business_days_and_microseconds(clock_24x7: Calendar) -> None:
    starts = [brt("2026-11-27T15:00"), brt("2026-11-28T10:00:00.250000")]
    assert deadlines_after(starts, BusinessDays(1), clock_24x7) == [
        deadline_after(start, BusinessDays(1), clock_24x7) for start in starts
    ]
    assert deadlines_after(starts, timedelta(minutes=30), clock_24x7)[1].microsecond == 250_000


# --- refused input --------------------------------------------------------------------


def test_naive_datetimes_are_refused_with_a_clear_error(clock_12x5: Calendar) -> None:
    naive = datetime(2026, 11, 30, 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="has no time zone"):
        deadline_after(naive, timedelta(hours=1), clock_12x5)
    with pytest.raises(ValueError, match="has no time zone"):
        business_time_between(naive, brt("2026-11-30T12:00"), clock_12x5)
    with pytest.raises(ValueError, match="has no time zone"):
        deadlines_after([brt("2026-11-30T12:00"), naive], timedelta(hours=1), clock_12x5)


def test_negative_and_non_duration_budgets_are_refused(clock_12x5: Calendar) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        deadline_after(brt("2026-11-30T10:00"), timedelta(hours=-1), clock_12x5)
    with pytest.raises(TypeError, match="timedelta or BusinessDays"):
        deadline_after(brt("2026-11-30T10:00"), 3600, clock_12x5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot be negative"):
        BusinessDays(-1)


def test_a_calendar_without_working_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="has no working hours in its week"):
        Calendar("never", time_zone="UTC", weekly_hours={"mon": []})
