"""Policy replay: what would the answered tickets' SLAs have been under another policy?

For every ticket already answered (optionally opened since a date), the new policy
decides its target again from what was recorded when it was opened (the account's plan
and status then, the channel, the ticket's severity) and the due time is recomputed
from the opening time; the outcome is whether the real first response came in time.
Tickets are grouped by their SLA inputs, so the policy decides once per group and the
due times of a group are computed with the batch business-time engine
(`deadlines_after_epoch`, vectorised when numpy is installed).

Decisions of note (docs/sla.md): the severity a ticket ended with stands (a new
policy's fixed severity for a channel is not replayed, because specialists may have
changed it for a reason); times count in whole seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from supportdesk.policy import Channel, ChannelRule, Policy, PolicyError, decide_sla
from supportdesk.policy.batch import deadlines_after_epoch
from supportdesk.policy.business_time import deadline_after
from supportdesk.policy.targets import BusinessDays, parse_target
from supportdesk.tickets.models import Ticket

GROUPINGS = ("plan", "severity", "channel", "status", "coverage")
CHUNK = 50_000


@dataclass
class Side:
    met: int = 0
    breached: int = 0
    no_sla: int = 0

    @property
    def met_share(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass
class ReplayRow:
    key: str
    tickets: int = 0
    real: Side = field(default_factory=Side)
    replayed: Side = field(default_factory=Side)
    due_earlier: int = 0
    due_later: int = 0
    outcome_changed: int = 0

    def as_dict(self) -> dict[str, Any]:
        def share(value: float | None) -> float | None:
            return round(value, 4) if value is not None else None

        return {
            "group": self.key, "tickets": self.tickets,
            "real_met": self.real.met, "real_breached": self.real.breached, "real_no_sla": self.real.no_sla,
            "real_met_share": share(self.real.met_share),
            "new_met": self.replayed.met, "new_breached": self.replayed.breached,
            "new_no_sla": self.replayed.no_sla, "new_met_share": share(self.replayed.met_share),
            "due_earlier": self.due_earlier, "due_later": self.due_later,
            "outcome_changed": self.outcome_changed,
        }


@dataclass
class ReplayResult:
    policy_version: str
    since: datetime | None
    by: str
    rows: list[ReplayRow]
    total: ReplayRow


@dataclass(frozen=True)
class _Terms:
    """What the new policy decides for one group of SLA inputs."""

    budget: Any  # timedelta or BusinessDays, None = no SLA
    calendar: Any
    plan: str
    coverage: str


# --- reading the tickets ---------------------------------------------------------------------

Record = tuple[str, str, str, str, str, int, float, float | None, bool | None]
# (plan, status, channel, severity, coverage, opened epoch s, responded epoch, due epoch, met)

_PG_SQL = """
SELECT sla_plan, sla_account_status, channel, severity, sla_coverage,
       FLOOR(EXTRACT(EPOCH FROM opened_at))::bigint,
       EXTRACT(EPOCH FROM first_responded_at)::float8,
       EXTRACT(EPOCH FROM first_response_due)::float8,
       first_response_met
  FROM {table}
 WHERE first_responded_at IS NOT NULL {since}
"""


def _records(since: datetime | None) -> Iterator[list[Record]]:
    """Answered tickets in chunks, times as epoch seconds."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Ticket._meta.db_table)
        sql = _PG_SQL.format(table=table, since="AND opened_at >= %s" if since else "")
        # A server-side cursor streams the rows instead of holding a million in the driver.
        with transaction.atomic(), connection.cursor() as outer:
            cursor = outer.connection.cursor(name="supportdesk_replay")  # psycopg named cursor
            cursor.itersize = CHUNK
            try:
                cursor.execute(sql, [since] if since else [])
                while True:
                    rows = cursor.fetchmany(CHUNK)
                    if not rows:
                        return
                    yield rows
            finally:
                cursor.close()
        return
    tickets = Ticket.objects.filter(first_responded_at__isnull=False)
    if since is not None:
        tickets = tickets.filter(opened_at__gte=since)
    chunk: list[Record] = []
    for plan, status, channel, severity, coverage, opened, responded, due, met in tickets.values_list(
        "sla_plan", "sla_account_status", "channel", "severity", "sla_coverage",
        "opened_at", "first_responded_at", "first_response_due", "first_response_met",
    ).order_by().iterator(chunk_size=CHUNK):
        chunk.append((plan, status, channel, severity, coverage, int(opened.timestamp() // 1),
                      responded.timestamp(), due.timestamp() if due else None, met))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- deciding ----------------------------------------------------------------------------------


def _requester_chooses(policy: Policy) -> Policy:
    rules = {channel: ChannelRule(channel=channel, severity=None) for channel in Channel}
    return replace(policy, channel_rules=rules)


def _terms(policy: Policy, plan: str, status: str, channel: str, severity: str) -> _Terms:
    if not plan or not status:
        return _Terms(None, None, "", "")
    try:
        decision = decide_sla(policy, plan=plan, status=status, severity=severity, channel=channel,
                              opened_at=datetime(2000, 1, 3, tzinfo=UTC))
    except (PolicyError, ValueError, KeyError):
        return _Terms(None, None, plan, "")  # a plan or status the new policy does not know
    if decision.target is None or decision.coverage is None:
        return _Terms(None, None, decision.terms_plan or plan, "")
    calendar = policy.calendars[decision.coverage]
    return _Terms(parse_target(decision.target).budget, calendar, decision.terms_plan or plan, decision.coverage)


def _due_times(starts: list[int], terms: _Terms) -> list[int]:
    budget = terms.budget
    if isinstance(budget, BusinessDays):
        return [int(deadline_after(datetime.fromtimestamp(start, UTC), budget, terms.calendar).timestamp())
                for start in starts]
    try:
        import numpy as np
    except ImportError:  # the list form (bisect over the timeline) is fast enough too
        return list(deadlines_after_epoch(starts, budget, terms.calendar))
    due = deadlines_after_epoch(np.asarray(starts, dtype=np.int64), budget, terms.calendar)
    return list(due.tolist())


# --- the replay ----------------------------------------------------------------------------------


def replay(
    policy: Policy, *, since: datetime | None = None, by: str = "plan",
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Recompute the answered tickets' outcomes under `policy`, next to the real ones."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
    deciding = _requester_chooses(policy)
    decided: dict[tuple[str, str, str, str], _Terms] = {}
    rows: dict[str, ReplayRow] = {}
    total = ReplayRow("all")
    seen = 0
    for chunk in _records(since):
        groups: dict[tuple[str, str, str, str], list[Record]] = defaultdict(list)
        for record in chunk:
            groups[(record[0], record[1], record[2], record[3])].append(record)
        for key, records in groups.items():
            terms = decided.get(key)
            if terms is None:
                terms = decided[key] = _terms(deciding, *key)
            new_due = _due_times([r[5] for r in records], terms) if terms.budget is not None else None
            for index, record in enumerate(records):
                row_key = _group_key(by, record, terms)
                row = rows.get(row_key)
                if row is None:
                    row = rows[row_key] = ReplayRow(row_key)
                due = new_due[index] if new_due is not None else None
                _count(row, record, due)
                _count(total, record, due)
        seen += len(chunk)
        if progress is not None:
            progress(seen)
    ordered = sorted(rows.values(), key=lambda row: (-row.tickets, row.key))
    return ReplayResult(policy.version, since, by, ordered, total)


def _group_key(by: str, record: Record, terms: _Terms) -> str:
    plan, status, channel, severity, coverage = record[:5]
    if by == "plan":
        return plan or "(no plan)"
    if by == "severity":
        return severity
    if by == "channel":
        return channel
    if by == "status":
        return status or "(unidentified)"
    return f"{coverage or '-'} -> {terms.coverage or '-'}"


def _count(row: ReplayRow, record: Record, new_due: int | None) -> None:
    row.tickets += 1
    responded, real_due, real_met = record[6], record[7], record[8]
    if real_due is None or real_met is None:
        row.real.no_sla += 1
        real_outcome = "no_sla"
    elif real_met:
        row.real.met += 1
        real_outcome = "met"
    else:
        row.real.breached += 1
        real_outcome = "breached"
    if new_due is None:
        row.replayed.no_sla += 1
        new_outcome = "no_sla"
    elif int(responded) <= new_due:  # whole seconds
        row.replayed.met += 1
        new_outcome = "met"
    else:
        row.replayed.breached += 1
        new_outcome = "breached"
    if real_due is not None and new_due is not None:
        if new_due < int(real_due):
            row.due_earlier += 1
        elif new_due > int(real_due):
            row.due_later += 1
    if new_outcome != real_outcome:
        row.outcome_changed += 1
