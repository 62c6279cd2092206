"""Turning the policy's SLA decision into a ticket's frozen SLA fields.

The policy engine decides; this module only asks it with the account's effective plan
and status at the ticket's opening time, and copies the answer onto the ticket.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from supportdesk.accounts.models import Account
from supportdesk.accounts.selectors import (
    EffectiveSubscription,
    contract_day,
    effective_on,
    effective_subscription,
    subscriptions_of,
)

_local = threading.local()


@contextmanager
def subscriptions_remembered(*, of: Iterable[int] = ()) -> Iterator[None]:
    """Inside, each account's effective subscription on a contract day is looked up once;
    the subscriptions of the accounts `of` (ids) are all read on entry, in one query.

    For a batch of openings processed at one instant in one transaction
    (`intake.service.receive_many`): the batch sees the subscriptions as they were
    when it started, like a single opening does. Nothing is kept after the block, so
    the next request or batch sees a subscription change at once.
    """
    previous = getattr(_local, "subscriptions", None), getattr(_local, "histories", None)
    _local.subscriptions = {}
    _local.histories = subscriptions_of(of)
    try:
        yield
    finally:
        _local.subscriptions, _local.histories = previous


def _effective(account: Account, at: datetime) -> EffectiveSubscription:
    remembered = getattr(_local, "subscriptions", None)
    if remembered is None:
        return effective_subscription(account, at=at)
    key = (account.pk, contract_day(at))
    found = remembered.get(key)
    if found is None:
        history = _local.histories.get(account.pk)
        found = remembered[key] = (
            effective_subscription(account, at=at) if history is None else effective_on(key[1], history)
        )
    return found


def enum_value(value: Any) -> Any:
    """The plain value of a policy enum member (or the value itself)."""
    return getattr(value, "value", value)


@dataclass(frozen=True)
class TicketSla:
    """The SLA fields of a ticket, ready to be copied onto it."""

    severity: str
    first_response_due: datetime | None
    sla_target: str
    sla_coverage: str
    sla_terms_plan: str
    sla_plan: str
    sla_account_status: str
    sla_channel_allowed: bool
    sla_policy_version: str
    sla_reasons: list[str]

    def apply_to(self, ticket: Any) -> None:
        for name, value in self.__dict__.items():
            setattr(ticket, name, value)
        # The SLA worker's next look at it (its warning moment, else the due time), set
        # in the same transaction so a stale warning can never fire (supportdesk.sla).
        from supportdesk.sla.moments import first_moment

        ticket.next_sla_at = first_moment(ticket)

    def values(self, *, opened_at: datetime) -> dict[str, Any]:
        """The ticket fields (attname -> value) for a new ticket opened at `opened_at`,
        including the SLA worker's first look (as `apply_to` sets it)."""
        from supportdesk.sla.moments import first_moment

        fields = dict(self.__dict__)
        fields["first_responded_at"] = None
        fields["first_response_met"] = None
        fields["next_sla_at"] = first_moment(
            SimpleNamespace(
                first_response_due=self.first_response_due,
                first_responded_at=None,
                opened_at=opened_at,
                sla_coverage=self.sla_coverage,
                sla_target=self.sla_target,
            )
        )
        return fields

    def snapshot(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "first_response_due": _iso(self.first_response_due),
            "sla_target": self.sla_target,
            "sla_coverage": self.sla_coverage,
            "sla_terms_plan": self.sla_terms_plan,
            "sla_policy_version": self.sla_policy_version,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_snapshot(ticket: Any) -> dict[str, Any]:
    return {
        "severity": ticket.severity,
        "first_response_due": _iso(ticket.first_response_due),
        "sla_target": ticket.sla_target,
        "sla_coverage": ticket.sla_coverage,
        "sla_terms_plan": ticket.sla_terms_plan,
        "sla_policy_version": ticket.sla_policy_version,
    }


def decide_ticket_sla(
    *,
    account: Account | None,
    severity: str | None,
    channel: str,
    opened_at: datetime,
    effective: EffectiveSubscription | None = None,
    severity_set_by_specialist: bool = False,
) -> TicketSla:
    """The SLA for a ticket of `account` opened at `opened_at` through `channel`.

    Without an account (unidentified) there is no plan and no status: the policy gives
    no SLA. `effective` may be passed when the caller already looked it up.
    `severity_set_by_specialist`: the severity is a specialist's decision, so the
    channel's fixed severity (email: Medium, hotline: High) does not override it.
    """
    from supportdesk.core.policy_source import active_policy
    from supportdesk.policy import decide_sla

    policy = active_policy()
    if severity_set_by_specialist:
        policy = _honouring_chosen_severity(policy, channel)
    if account is not None and effective is None:
        effective = _effective(account, opened_at)
    plan = effective.plan if effective is not None else None
    status = effective.status if effective is not None else None
    decision = decide_sla(
        policy,
        plan=plan,
        status=status,
        severity=severity,
        channel=channel,
        opened_at=opened_at,
    )
    policy_reasons = list(decision.reasons)
    if severity_set_by_specialist and policy_reasons:
        # The policy's first reason explains the severity; here a specialist chose it.
        policy_reasons[0] = f"severity {decision.severity.label} set by a specialist"
    reasons = [*(effective.reasons if effective is not None else ()), *policy_reasons]
    return TicketSla(
        severity=str(enum_value(decision.severity)),
        first_response_due=decision.due,
        sla_target=decision.target or "",
        sla_coverage=decision.coverage or "",
        sla_terms_plan=decision.terms_plan or "",
        sla_plan=plan or "",
        sla_account_status=str(status or ""),
        sla_channel_allowed=bool(decision.channel_allowed),
        sla_policy_version=str(decision.policy_version),
        sla_reasons=reasons,
    )


_honouring_cache: dict[tuple[int, str], tuple[Any, Any]] = {}


def _honouring_chosen_severity(policy: Any, channel: str) -> Any:
    """The policy with `channel` letting the chosen severity stand (cached per policy)."""
    from supportdesk.policy import Channel, ChannelRule

    key = (id(policy), str(channel))
    cached = _honouring_cache.get(key)
    if cached is not None and cached[0] is policy:
        return cached[1]
    rules = dict(policy.channel_rules)
    rules[Channel(channel)] = ChannelRule(channel=Channel(channel), severity=None)
    derived = replace(policy, channel_rules=rules)
    _honouring_cache[key] = (policy, derived)
    return derived
