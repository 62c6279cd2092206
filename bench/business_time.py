"""Business-time speed: supportdesk's engine against pandas CustomBusinessHour.

    .venv/bin/python bench/business_time.py [--starts 100000] [--seed 2026] [--year 2026]

Computes due times for the same random starts (uniform over one year) on
America/Sao_Paulo, Monday to Friday 08:00-20:00, Brazil national holidays, for budgets
of 1 h, 12 h and 48 h, with:

* pandas: `start + CustomBusinessHour(n=hours, ...)` on local wall times, one by one
  (pandas applies this offset element-wise even to a whole DatetimeIndex);
* ours, one at a time: `deadline_after(start, budget, calendar)` on aware datetimes;
* ours, batch: `deadlines_after(starts, ...)` (datetimes in and out), and
  `deadlines_after_epoch(...)` on epoch seconds, as a Python list and as a numpy array.

Every result of ours is checked against pandas. pandas rolls a result that lands on a
closing time to the next opening (Mon 08:00 + 12 h -> Tue 08:00; ours: Mon 20:00, the
earliest instant), so agreement is "business-time equivalent": the working time from
ours to pandas' result is zero, and the working time from the start to either is the
budget. Each timing is the best of --repeat runs (--pandas-repeat for pandas). Prints
per-second figures and the ratios to pandas; exits non-zero if any result disagrees.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import holidays
import numpy as np
import pandas as pd
from pandas.tseries.offsets import CustomBusinessHour

from supportdesk.policy import (
    Calendar,
    HolidaySet,
    business_time_between,
    deadline_after,
    deadlines_after,
    deadlines_after_epoch,
)

ZONE = "America/Sao_Paulo"
BUDGET_HOURS = (1, 12, 48)


def calendar() -> Calendar:
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    return Calendar(
        "bench-12x5-br",
        time_zone=ZONE,
        weekly_hours={day: [(8 * 3600, 20 * 3600)] for day in weekdays},
        holidays=HolidaySet("BR"),
    )


def random_starts(count: int, year: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    first = datetime(year, 1, 1, tzinfo=UTC)
    span = int((datetime(year + 1, 1, 1, tzinfo=UTC) - first).total_seconds())
    return [first + timedelta(seconds=rng.randrange(span)) for _ in range(count)]


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best, result


def pandas_dues(starts: list[datetime], hours: int, year: int) -> Callable[[], list[datetime]]:
    national = sorted(holidays.country_holidays("BR", years=[year, year + 1]))
    offset = CustomBusinessHour(n=hours, start="08:00", end="20:00", holidays=national)
    local = [pd.Timestamp(start).tz_convert(ZONE).tz_localize(None) for start in starts]

    def run() -> list[datetime]:
        return [moment + offset for moment in local]

    return run


def check(
    starts: list[datetime],
    ours: list[datetime],
    theirs: list[Any],
    budget: timedelta,
    cal: Calendar,
) -> tuple[int, int]:
    """(identical, rolled) counts; raises SystemExit on any real disagreement."""
    identical = rolled = 0
    for start, mine, other in zip(starts, ours, theirs, strict=True):
        their_due = other.tz_localize(ZONE).to_pydatetime()
        if mine == their_due:
            identical += 1
            continue
        if (
            mine < their_due
            and business_time_between(mine, their_due, cal) == timedelta(0)
            and business_time_between(start, mine, cal) == budget
        ):
            rolled += 1
            continue
        sys.exit(
            f"DISAGREE: start {start.isoformat()} + {budget}: ours {mine.isoformat()}, pandas {their_due.isoformat()}"
        )
    return identical, rolled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--pandas-repeat", type=int, default=3)
    args = parser.parse_args()

    cal = calendar()
    starts = random_starts(args.starts, args.year, args.seed)
    deadline_after(starts[0], timedelta(hours=1), cal)  # build the timeline outside the timings
    epochs = [int(start.timestamp()) for start in starts]
    epoch_array = np.array(epochs, dtype=np.int64)
    count = len(starts)
    print(
        f"{count:,} random starts in {args.year}, {ZONE} Mon-Fri 08:00-20:00 + BR national holidays"
    )
    print(f"{'budget':>6}  {'path':<30} {'per second':>14}  {'x pandas':>9}")
    for hours in BUDGET_HOURS:
        budget = timedelta(hours=hours)
        pandas_time, theirs = best_of(args.pandas_repeat, pandas_dues(starts, hours, args.year))
        single_time, ours = best_of(
            args.repeat, lambda budget=budget: [deadline_after(s, budget, cal) for s in starts]
        )
        identical, rolled = check(starts, ours, theirs, budget, cal)
        batch_time, batch = best_of(
            args.repeat, lambda budget=budget: deadlines_after(starts, budget, cal)
        )
        list_time, listed = best_of(
            args.repeat, lambda budget=budget: deadlines_after_epoch(epochs, budget, cal)
        )
        numpy_time, vectored = best_of(
            args.repeat, lambda budget=budget: deadlines_after_epoch(epoch_array, budget, cal)
        )
        expected = [int(due.timestamp()) for due in ours]
        if batch != ours or listed != expected or vectored.tolist() != expected:
            sys.exit(f"batch results differ from one-at-a-time results for {hours} h")
        rows = [
            ("pandas CustomBusinessHour", pandas_time),
            ("deadline_after (one at a time)", single_time),
            ("deadlines_after (datetimes)", batch_time),
            ("deadlines_after_epoch (list)", list_time),
            ("deadlines_after_epoch (numpy)", numpy_time),
        ]
        for name, seconds in rows:
            print(
                f"{hours:>4} h  {name:<30} {count / seconds:>14,.0f}  {pandas_time / seconds:>8.1f}x"
            )
        print(
            f"        agreement: {identical:,} identical, {rolled:,} pandas rolled to the next opening, 0 differ"
        )


if __name__ == "__main__":
    main()
