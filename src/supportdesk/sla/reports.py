"""SLA reports: compliance, first-response times, breaches, monthly statements.

Every number is computed from the tickets' frozen SLA fields, in SQL where it can be
(one aggregate query grouped by account, plan, severity, channel and period, rolled
up in Python per dimension). A ticket counts in the period it was opened in, and is:

* met      - answered at or before its due time (`first_response_met`);
* breached - answered late, or still unanswered after its due time (as of `as_of`);
* pending  - unanswered and not yet due;
* no SLA   - it had no first-response target (unidentified, expired, wrong channel).

First-response times are measured on the ticket's own clock (business time on its
coverage calendar, so a 12x5 ticket answered Monday 09:00 after opening Friday
19:00 took 2 h) and summarised by the median and the 90th percentile, nearest-rank
(both are times some ticket actually took).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDay, TruncMonth
from django.utils.translation import gettext

from supportdesk.accounts.models import Account
from supportdesk.policy import Policy, business_time_between
from supportdesk.tickets.models import Ticket

OUTCOMES = ("met", "breached", "pending", "no_sla")
OUTCOME_LABELS = {"met": "met", "breached": "breached", "pending": "pending", "no_sla": "no SLA"}
DIMENSIONS = ("plan", "severity", "channel", "account", "period")
DIMENSION_LABELS = {
    "plan": "plan", "severity": "severity", "channel": "channel", "account": "account", "period": "period",
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.SUPPORTDESK_REPORT_TIME_ZONE)


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in the report zone, e.g. one month."""

    start: datetime
    end: datetime
    label: str
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def month(year: int, month_number: int, zone: ZoneInfo | None = None) -> Period:
    zone = zone or report_zone()
    start = datetime(year, month_number, 1, tzinfo=zone)
    following = datetime(year + month_number // 12, month_number % 12 + 1, 1, tzinfo=zone)
    return Period(start.astimezone(UTC), following.astimezone(UTC), f"{year:04d}-{month_number:02d}", zone)


def month_of(moment: datetime, zone: ZoneInfo | None = None) -> Period:
    zone = zone or report_zone()
    local = moment.astimezone(zone)
    return month(local.year, local.month, zone)


def days(first: date, last: date, zone: ZoneInfo | None = None) -> Period:
    """From `first` to `last` inclusive, whole days in the report zone."""
    zone = zone or report_zone()
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC), f"{first.isoformat()}..{last.isoformat()}", zone)


def parse_period(text: str, zone: ZoneInfo | None = None) -> Period:
    """'2026-03' (a month) or '2026-01-01..2026-03-31' (days, inclusive)."""
    text = text.strip()
    try:
        if ".." in text:
            first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
            return days(first, last, zone)
        year, month_number = (int(part) for part in text.split("-"))
        if not 1 <= month_number <= 12:
            raise ValueError
        return month(year, month_number, zone)
    except ValueError:
        raise ValueError(f"{text!r} is not a period; give a month (2026-03) or days (2026-01-01..2026-03-31)") from None


# --- compliance ------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    met: int = 0
    breached: int = 0
    pending: int = 0
    no_sla: int = 0
    times: list[float] = field(default_factory=list, repr=False)  # first-response seconds

    @property
    def total(self) -> int:
        return self.met + self.breached + self.pending + self.no_sla

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def met_share(self) -> float | None:
        """Met among the tickets whose outcome is known (met or breached)."""
        return self.met / self.decided if self.decided else None

    @property
    def median(self) -> timedelta | None:
        return percentile(self.times, 0.5)

    @property
    def p90(self) -> timedelta | None:
        return percentile(self.times, 0.9)

    def add(self, other: Row) -> None:
        self.met += other.met
        self.breached += other.breached
        self.pending += other.pending
        self.no_sla += other.no_sla

    def as_dict(self) -> dict[str, Any]:
        median, p90 = self.median, self.p90
        return {
            "key": self.key, "label": self.label, "tickets": self.total, "met": self.met,
            "breached": self.breached, "pending": self.pending, "no_sla": self.no_sla,
            "met_share": round(self.met_share, 4) if self.met_share is not None else None,
            "answered_with_sla": len(self.times),
            "first_response_median_seconds": int(median.total_seconds()) if median is not None else None,
            "first_response_p90_seconds": int(p90.total_seconds()) if p90 is not None else None,
        }


def percentile(values: Sequence[float], share: float) -> timedelta | None:
    """Nearest-rank percentile of seconds (an observed value), or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return timedelta(seconds=ordered[rank - 1])


@dataclass
class Compliance:
    period: Period
    as_of: datetime
    total: Row
    by: dict[str, list[Row]]
    account: Account | None = None


def outcome_filters(as_of: datetime) -> dict[str, Q]:
    unanswered = Q(first_responded_at__isnull=True)
    return {
        "met": Q(first_response_met=True),
        "breached": Q(first_response_met=False) | (unanswered & Q(first_response_due__lte=as_of)),
        "pending": unanswered & Q(first_response_due__gt=as_of),
        "no_sla": Q(first_response_due__isnull=True),
    }


def _tickets(period: Period, account: Account | None) -> Any:
    tickets = Ticket.objects.filter(opened_at__gte=period.start, opened_at__lt=period.end)
    if account is not None:
        tickets = tickets.filter(account=account)
    return tickets


def _period_trunc(period: Period) -> tuple[Any, str]:
    """Per day for up to a month, per month beyond."""
    if period.days <= 31:
        return TruncDay("opened_at", tzinfo=period.zone), "%Y-%m-%d"
    return TruncMonth("opened_at", tzinfo=period.zone), "%Y-%m"


_FIELDS = {"plan": "sla_plan", "severity": "severity", "channel": "channel", "account": "account_id",
           "period": "bucket"}


def compliance(
    period: Period, *, as_of: datetime, policy: Policy, account: Account | None = None,
    with_times: bool = True,
) -> Compliance:
    """The compliance report of the tickets opened in `period`, as of `as_of`.

    One small aggregate query per dimension (over the period's tickets, found through
    the `opened_at` index), then the first-response times of the answered tickets.
    """
    trunc, bucket_format = _period_trunc(period)
    counts = {name: Count("id", filter=condition) for name, condition in outcome_filters(as_of).items()}
    base = _tickets(period, account)
    names = _account_names(period, account)
    plan_names = {plan_id: plan.name for plan_id, plan in policy.plans.items()}
    groups: dict[str, dict[str, Row]] = {}
    for dimension, name in _FIELDS.items():
        query = base.annotate(bucket=trunc) if dimension == "period" else base
        rows: dict[str, Row] = {}
        for cell in query.values(name).annotate(**counts).order_by():
            key, label = _label(dimension, cell[name], bucket_format, names, plan_names)
            row = rows.setdefault(key, Row(key, label))
            row.add(Row(key, label, cell["met"], cell["breached"], cell["pending"], cell["no_sla"]))
        groups[dimension] = rows
    total = Row("all", "all tickets")
    for row in groups["plan"].values():
        total.add(row)
    if with_times:
        for keys, seconds in _first_response_times(period, account, policy, bucket_format):
            total.times.append(seconds)
            for dimension, value in zip(_FIELDS, keys, strict=True):
                key = _label(dimension, value, bucket_format, names, plan_names)[0]
                groups[dimension][key].times.append(seconds)
    return Compliance(period, as_of, total, {
        dimension: _ordered(dimension, rows.values()) for dimension, rows in groups.items()
    }, account)


def _account_names(period: Period, account: Account | None) -> dict[int | None, str]:
    if account is not None:
        return {account.pk: account.name, None: "(no account)"}
    ids = _tickets(period, None).exclude(account=None).values("account_id").distinct()
    names: dict[int | None, str] = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name"))
    names[None] = "(no account)"
    return names


def _label(dimension: str, value: Any, bucket_format: str, names: dict[int | None, str],
           plan_names: dict[str, str]) -> tuple[str, str]:
    """(key, label) of one group of a dimension."""
    if dimension == "plan":
        return (value or "-", plan_names.get(value, value) if value else "(no plan)")
    if dimension == "severity":
        return (value, str(value).capitalize())
    if dimension == "account":
        return (str(value or "-"), names.get(value, str(value)))
    if dimension == "period":
        key = value.strftime(bucket_format) if isinstance(value, datetime) else str(value or "")
        return (key, key)
    return (value, value)


def _ordered(dimension: str, rows: Iterable[Row]) -> list[Row]:
    if dimension == "severity":
        return sorted(rows, key=lambda row: SEVERITY_ORDER.get(row.key, 9))
    if dimension == "period":
        return sorted(rows, key=lambda row: row.key)
    return sorted(rows, key=lambda row: (-row.total, row.label))


Keys = tuple[str, str, str, int | None, str]  # plan, severity, channel, account id, period key

_PG_ANSWERED = """
SELECT sla_plan, severity, channel, account_id,
       to_char(opened_at AT TIME ZONE %s, %s),
       sla_coverage,
       FLOOR(EXTRACT(EPOCH FROM opened_at))::bigint,
       FLOOR(EXTRACT(EPOCH FROM first_responded_at))::bigint
  FROM {table}
 WHERE opened_at >= %s AND opened_at < %s
   AND first_responded_at IS NOT NULL AND first_response_due IS NOT NULL {account}
"""


def _first_response_times(
    period: Period, account: Account | None, policy: Policy, bucket_format: str
) -> Iterable[tuple[Keys, float]]:
    """(keys, seconds on the ticket's clock) of every answered ticket with an SLA."""
    by_coverage: dict[str, list[tuple[Keys, int, int]]] = {}
    for keys, coverage, opened, responded in _answered(period, account, bucket_format):
        by_coverage.setdefault(coverage, []).append((keys, opened, responded))
    for coverage, rows in by_coverage.items():
        calendar = policy.calendars.get(coverage)
        if calendar is None:  # a clock gone from a newer policy: wall time
            for keys, opened, responded in rows:
                yield keys, float(max(responded - opened, 0))
            continue
        opened_pos = _positions(calendar, [row[1] for row in rows])
        responded_pos = _positions(calendar, [row[2] for row in rows])
        for (keys, _, _), start, end in zip(rows, opened_pos, responded_pos, strict=True):
            yield keys, float(max(end - start, 0))


def _answered(period: Period, account: Account | None, bucket_format: str) -> Iterable[tuple[Keys, str, int, int]]:
    if connection.vendor == "postgresql":
        sql_format = "YYYY-MM-DD" if bucket_format == "%Y-%m-%d" else "YYYY-MM"
        table = connection.ops.quote_name(Ticket._meta.db_table)
        sql = _PG_ANSWERED.format(table=table, account="AND account_id = %s" if account else "")
        params: list[Any] = [period.zone.key, sql_format, period.start, period.end]
        if account is not None:
            params.append(account.pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for plan, severity, channel, account_id, bucket, coverage, opened, responded in cursor.fetchall():
                yield (plan, severity, channel, account_id, bucket), coverage, opened, responded
        return
    trunc, _ = _period_trunc(period)
    answered = (
        _tickets(period, account)
        .filter(first_responded_at__isnull=False, first_response_due__isnull=False)
        .annotate(bucket=trunc)
        .values_list("sla_plan", "severity", "channel", "account_id", "bucket",
                     "sla_coverage", "opened_at", "first_responded_at")
        .order_by()
    )
    for plan, severity, channel, account_id, bucket, coverage, opened, responded in answered.iterator(chunk_size=5000):
        key = bucket.strftime(bucket_format) if bucket is not None else ""
        yield (plan, severity, channel, account_id, key), coverage, int(opened.timestamp() // 1), int(responded.timestamp() // 1)


def _positions(calendar: Any, seconds: list[int]) -> list[int]:
    """Working seconds elapsed on the calendar's timeline at each instant (whole seconds):
    business time between two instants is the difference of their positions."""
    if not seconds:
        return []
    timeline = calendar.timeline(min(seconds), max(seconds))
    starts, ends, at_start = timeline.starts, timeline.ends, timeline.pos_at_start
    last = timeline.pos_at_end[-1] if timeline.pos_at_end else 0
    count = len(ends)
    positions = []
    for instant, index in zip(seconds, map(bisect_right, repeat(ends), seconds), strict=True):
        if index == count:
            positions.append(last)
        elif starts[index] > instant:
            positions.append(at_start[index])
        else:
            positions.append(at_start[index] + instant - starts[index])
    return positions


# --- breaches --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    number: int
    subject: str
    account: str
    plan: str
    severity: str
    channel: str
    opened_at: datetime
    due: datetime
    first_responded_at: datetime | None
    late: timedelta  # on the ticket's clock: answered after, or overdue as of the report
    target: str
    coverage: str
    reasons: tuple[str, ...]
    policy_version: str
    plan_name: str = ""  # the plan's name in the policy ("Mission Critical"); `plan` is its id

    @property
    def why(self) -> str:
        from supportdesk.web.templatetags.desk import describe_duration

        words = {"late": describe_duration(self.late), "target": self.target, "coverage": self.coverage}
        if self.first_responded_at is None:
            return gettext("not answered yet: %(late)s past the %(target)s target on %(coverage)s") % words
        return gettext("answered %(late)s after the %(target)s target on %(coverage)s") % words


def breaches(period: Period, *, as_of: datetime, policy: Policy, account: Account | None = None,
             limit: int | None = None) -> list[Breach]:
    """The breached tickets opened in `period`, earliest due time first, with their reasons."""
    rows = (
        _tickets(period, account)
        .filter(outcome_filters(as_of)["breached"])
        .select_related("account")
        .order_by("first_response_due", "number")
        .only("number", "subject", "account__name", "sla_plan", "severity", "channel", "opened_at",
              "first_response_due", "first_responded_at", "sla_target", "sla_coverage",
              "sla_reasons", "sla_policy_version")
    )
    if limit is not None:
        rows = rows[:limit]
    found = []
    for ticket in rows:
        due = ticket.first_response_due
        end = ticket.first_responded_at or as_of
        calendar = policy.calendars.get(ticket.sla_coverage)
        late = business_time_between(due, end, calendar) if calendar else end - due
        found.append(Breach(
            number=ticket.number, subject=ticket.subject,
            account=ticket.account.name if ticket.account_id else "",
            plan=ticket.sla_plan, severity=ticket.severity, channel=ticket.channel,
            opened_at=ticket.opened_at, due=due, first_responded_at=ticket.first_responded_at,
            late=late, target=ticket.sla_target, coverage=ticket.sla_coverage,
            reasons=tuple(ticket.sla_reasons or ()), policy_version=ticket.sla_policy_version,
            plan_name=plan.name if (plan := policy.plans.get(ticket.sla_plan)) else ticket.sla_plan,
        ))
    return found


# --- monthly statement -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    ticket: Ticket
    outcome: str
    first_response_time: timedelta | None  # on the ticket's clock


@dataclass
class Statement:
    account: Account
    period: Period
    as_of: datetime
    lines: list[StatementLine]
    summary: Row


def outcome_of(ticket: Ticket, as_of: datetime) -> str:
    if ticket.first_response_due is None:
        return "no_sla"
    if ticket.first_responded_at is not None:
        return "met" if ticket.first_response_met else "breached"
    return "breached" if ticket.first_response_due <= as_of else "pending"


def statement(account: Account, period: Period, *, as_of: datetime, policy: Policy) -> Statement:
    """Every ticket of the account opened in the period: target, due, outcome, decision."""
    summary = Row(account.slug, account.name)
    lines = []
    tickets = _tickets(period, account).order_by("opened_at", "number")
    for ticket in tickets:
        outcome = outcome_of(ticket, as_of)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        taken = None
        if ticket.first_responded_at is not None and ticket.first_response_due is not None:
            calendar = policy.calendars.get(ticket.sla_coverage)
            taken = (business_time_between(ticket.opened_at, ticket.first_responded_at, calendar)
                     if calendar else ticket.first_responded_at - ticket.opened_at)
            summary.times.append(taken.total_seconds())
        lines.append(StatementLine(ticket, outcome, taken))
    return Statement(account, period, as_of, lines, summary)


# --- CSV -------------------------------------------------------------------------------------


def rows_table(rows: Sequence[Row], dimension: str) -> tuple[list[str], list[list[Any]]]:
    header = [dimension, "tickets", "met", "breached", "pending", "no_sla", "met_share",
              "answered_with_sla", "first_response_median_seconds", "first_response_p90_seconds"]
    body = []
    for row in rows:
        data = row.as_dict()
        body.append([row.label, *(data[name] for name in header[1:])])
    return header, body


def breaches_table(found: Sequence[Breach]) -> tuple[list[str], list[list[Any]]]:
    header = ["number", "subject", "account", "plan", "severity", "channel", "opened_at", "due",
              "first_responded_at", "late_seconds", "why", "reasons", "policy_version"]
    body = [
        [b.number, b.subject, b.account, b.plan, b.severity, b.channel, b.opened_at.isoformat(),
         b.due.isoformat(), b.first_responded_at.isoformat() if b.first_responded_at else "",
         int(b.late.total_seconds()), b.why, " | ".join(b.reasons), b.policy_version]
        for b in found
    ]
    return header, body


def statement_table(found: Statement) -> tuple[list[str], list[list[Any]]]:
    header = ["number", "subject", "opened_at", "channel", "severity", "target", "coverage", "due",
              "first_responded_at", "outcome", "first_response_seconds", "decision", "policy_version"]
    body = []
    for line in found.lines:
        ticket = line.ticket
        body.append([
            ticket.number, ticket.subject, ticket.opened_at.isoformat(), ticket.channel,
            ticket.severity, ticket.sla_target, ticket.sla_coverage,
            ticket.first_response_due.isoformat() if ticket.first_response_due else "",
            ticket.first_responded_at.isoformat() if ticket.first_responded_at else "",
            line.outcome,
            int(line.first_response_time.total_seconds()) if line.first_response_time is not None else "",
            " | ".join(ticket.sla_reasons or ()), ticket.sla_policy_version,
        ])
    return header, body


def csv_text(header: Sequence[str], body: Iterable[Sequence[Any]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for line in body:
        # Cells starting with = + - @ are read as formulas by spreadsheets: neutralise them.
        writer.writerow([f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in line])
    return out.getvalue()


def as_of_default() -> datetime:
    from supportdesk import clock

    return clock.now()


__all__ = [
    "OUTCOMES", "Breach", "Compliance", "Period", "Row", "Statement", "breaches", "compliance",
    "csv_text", "month", "month_of", "parse_period", "statement",
]
