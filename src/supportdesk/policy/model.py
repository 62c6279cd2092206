"""The loaded support policy: plans, calendars, account-status and channel rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from supportdesk.policy.calendar import Calendar
from supportdesk.policy.enums import AccountStatus, Channel, Severity
from supportdesk.policy.errors import PolicyError, UnknownPlanError
from supportdesk.policy.targets import Target


@dataclass(frozen=True)
class Plan:
    """A support plan: who may write through which channel, and how fast we answer."""

    id: str
    name: str
    family: str
    sold_until: date | None  # new subscriptions must start before this date; None = still sold
    channels: frozenset[Channel]
    coverage: str  # calendar id of the SLA clock
    targets: Mapping[Severity, Target]
    technical_account_manager: bool = False
    account_manager: bool = True
    max_points_of_contact: int | None = None
    availability: str = ""  # how it is sold, in words ("through sales only")

    def is_sold_on(self, day: date) -> bool:
        """Whether a NEW subscription dated `day` may use this plan."""
        return self.sold_until is None or day < self.sold_until

    def target(self, severity: Severity | str) -> Target:
        return self.targets[Severity(severity)]

    def channel_list(self) -> list[Channel]:
        """The plan's channels in the canonical order portal, email, hotline."""
        return [channel for channel in Channel if channel in self.channels]


@dataclass(frozen=True)
class StatusRule:
    """What an account status means for the SLA."""

    status: AccountStatus
    sla: bool  # False: no SLA, tickets are handled best-effort
    terms_of: str | None = None  # plan id whose terms apply instead of the account's plan


@dataclass(frozen=True)
class ChannelRule:
    """How a channel sets the severity: fixed (email -> medium) or the requester's choice."""

    channel: Channel
    severity: Severity | None  # None: the requester chooses


@dataclass(frozen=True)
class Policy:
    version: str
    calendars: Mapping[str, Calendar]
    plans: Mapping[str, Plan]
    statuses: Mapping[AccountStatus, StatusRule]
    channel_rules: Mapping[Channel, ChannelRule]
    default_severity: Severity = Severity.MEDIUM
    free_mail_extra_domains: frozenset[str] = frozenset()
    warning_share: float = 0.75
    source: Path | None = field(default=None, compare=False)

    def plan(self, plan_id: str) -> Plan:
        """The plan with this id; PolicyError naming the valid ids otherwise."""
        try:
            return self.plans[plan_id]
        except KeyError:
            raise UnknownPlanError(
                f"unknown plan {plan_id!r}; valid plans: {', '.join(self.plans)}"
            ) from None

    def calendar(self, calendar_id: str) -> Calendar:
        try:
            return self.calendars[calendar_id]
        except KeyError:
            raise PolicyError(
                f"unknown calendar {calendar_id!r}; valid calendars: {', '.join(self.calendars)}"
            ) from None

    def coverage_of(self, plan: Plan) -> Calendar:
        return self.calendars[plan.coverage]

    def status_rule(self, status: AccountStatus | str) -> StatusRule:
        return self.statuses[AccountStatus(status)]

    def channel_rule(self, channel: Channel | str) -> ChannelRule:
        return self.channel_rules[Channel(channel)]
