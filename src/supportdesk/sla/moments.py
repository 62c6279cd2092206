"""When the SLA worker must next look at a ticket: its warning moment, then its due time.

The warning comes when `policy.warning_share` of the target has elapsed on the
ticket's own clock: warning = deadline_after(opened, share x budget) on the coverage
calendar, where budget is the working time from the opening to the due time. For
targets in business days the budget is counted on the calendar those days are counted
on. Computed on the working-interval walk, the warning moment always lies inside
coverage hours: a 12x5 ticket is never warned about at 3 a.m.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from supportdesk.policy import Calendar, Policy, business_time_between, deadline_after
from supportdesk.policy.targets import BusinessDays, parse_target

ONE_SECOND = timedelta(seconds=1)


def clock_of(policy: Policy, coverage: str, target: str) -> Calendar | None:
    """The calendar a ticket's target is counted on (None when the policy lost it)."""
    calendar = policy.calendars.get(coverage)
    if calendar is None:
        return None
    try:
        parsed = parse_target(target)
    except ValueError:
        return calendar
    return calendar.business_day_calendar if isinstance(parsed.budget, BusinessDays) else calendar


def warning_moment(
    *, opened_at: datetime, due: datetime, coverage: str, target: str, policy: Policy
) -> datetime | None:
    """The instant to warn the team, or None when there is no warning before the due time."""
    share = policy.warning_share
    if not 0 < share < 1:
        return None
    calendar = clock_of(policy, coverage, target)
    if calendar is None:
        return None
    budget = business_time_between(opened_at, due, calendar)
    if budget <= timedelta(0):
        return None
    # Whole seconds: warnings need no microseconds, and the batch engine counts seconds.
    warn_budget = timedelta(seconds=int(budget.total_seconds() * share))
    moment = deadline_after(opened_at, warn_budget, calendar)
    return moment if moment < due else None


def first_moment(ticket: Any, policy: Policy | None = None) -> datetime | None:
    """The first moment the worker must look at a ticket that has not been answered."""
    due = ticket.first_response_due
    if due is None or ticket.first_responded_at is not None:
        return None
    if policy is None:
        from supportdesk.core.policy_source import active_policy

        policy = active_policy()
    warning = warning_moment(
        opened_at=ticket.opened_at,
        due=due,
        coverage=ticket.sla_coverage,
        target=ticket.sla_target,
        policy=policy,
    )
    return warning or due


def next_opening(moment: datetime, calendar: Calendar) -> datetime:
    """`moment` when it is inside working time, else the next opening of the calendar."""
    return deadline_after(moment, timedelta(0), calendar)
