"""Deciding a ticket's first-response SLA: severity x plan x account status x channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from supportdesk.policy.business_time import deadline_after
from supportdesk.policy.enums import AccountStatus, Channel, Severity, choices
from supportdesk.policy.model import Plan, Policy

_E = TypeVar("_E", Channel, AccountStatus, Severity)


@dataclass(frozen=True)
class SlaDecision:
    """A ticket's SLA and why. `due` None means no SLA (handled best-effort)."""

    severity: Severity  # after the channel rules
    due: datetime | None  # aware UTC
    target: str | None  # as written in the policy, e.g. "30 min"
    coverage: str | None  # calendar id of the clock, e.g. "24x7"
    terms_plan: str | None  # plan whose terms apply (e.g. "standard" for a trial account)
    # Whether the applicable terms include the channel, whatever the status: an expired
    # Gold account asking by hotline has no SLA but its plan includes the hotline (True).
    # False for an unidentified requester (no terms at all).
    channel_allowed: bool
    policy_version: str
    reasons: tuple[str, ...]
    plan: str | None = None  # the account's own plan, as asked
    status: AccountStatus | None = None
    channel: Channel = Channel.PORTAL
    opened_at: datetime | None = None
    summary: str = ""  # one line, e.g. "Gold, active, High via portal: 30 min on 24x7"

    @property
    def has_sla(self) -> bool:
        return self.due is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: instants as ISO 8601 UTC with 'Z', enums as their values."""
        return {
            "due": _iso(self.due),
            "target": self.target,
            "coverage": self.coverage,
            "severity": self.severity.value,
            "terms_plan": self.terms_plan,
            "channel_allowed": self.channel_allowed,
            "policy_version": self.policy_version,
            "reasons": list(self.reasons),
            "plan": self.plan,
            "status": self.status.value if self.status else None,
            "channel": self.channel.value,
            "opened_at": _iso(self.opened_at),
            "summary": self.summary,
        }


def decide_sla(
    policy: Policy,
    *,
    plan: str | None,
    status: AccountStatus | str | None,
    severity: Severity | str | None,
    channel: Channel | str,
    opened_at: datetime,
) -> SlaDecision:
    """The first-response SLA of a ticket opened at `opened_at`.

    `plan`/`status` None: the requester is not identified as a customer, so no SLA.
    An unknown plan id raises PolicyError; a bad severity, status or channel ValueError.
    """
    channel = _coerce(Channel, channel, "channel")
    status = _coerce(AccountStatus, status, "status") if status is not None else None
    requested = _coerce(Severity, severity, "severity") if severity is not None else None
    if opened_at.tzinfo is None or opened_at.utcoffset() is None:
        raise ValueError(
            f"opened_at {opened_at.isoformat()} has no time zone; give an aware datetime"
        )
    final, severity_reason = _severity_after_channel(policy, channel, requested)
    reasons = [severity_reason]
    own_plan = policy.plan(plan) if plan is not None else None
    base = _Base(policy, own_plan, status, channel, final, opened_at.astimezone(UTC))
    rule = policy.status_rule(status) if status is not None else None
    if rule is None or (own_plan is None and (rule.terms_of is None or not rule.sla)):
        reasons.append("requester not identified as a customer: no SLA")
        return base.without_sla(reasons, None, channel_allowed=False)
    if not rule.sla:
        assert own_plan is not None  # no plan and no SLA: handled as unidentified above
        reasons.append(f"{status} account: no SLA (handled best-effort)")
        return base.without_sla(
            reasons, own_plan.id, channel_allowed=channel in own_plan.channels
        )
    terms = policy.plan(rule.terms_of) if rule.terms_of else own_plan
    assert terms is not None  # own_plan is set unless the status names its terms
    if rule.terms_of:
        reasons.append(f"{status} account: {terms.name} terms")
    else:
        reasons.append(f"{status} account on plan {terms.name}")
    if channel not in terms.channels:
        reasons.append(f"channel {channel} not in plan {terms.name}: no SLA")
        return base.without_sla(reasons, terms.id, channel_allowed=False)
    target = terms.target(final)
    coverage = policy.coverage_of(terms)
    due = deadline_after(base.opened_at, target.budget, coverage)
    reasons.append(
        f"first response within {target.text} on the {coverage.id} clock "
        f"(plan {terms.name}, {final.label}, policy {policy.version})"
    )
    return base.with_sla(reasons, terms, target.text, due)


@dataclass(frozen=True)
class _Base:
    policy: Policy
    own_plan: Plan | None
    status: AccountStatus | None
    channel: Channel
    severity: Severity
    opened_at: datetime

    def _head(self) -> str:
        who = self.own_plan.name if self.own_plan else "unidentified requester"
        status = f", {self.status}" if self.status and self.own_plan else ""
        return f"{who}{status}, {self.severity.label} via {self.channel}"

    def without_sla(
        self, reasons: list[str], terms_plan: str | None, *, channel_allowed: bool
    ) -> SlaDecision:
        return self._decision(
            reasons,
            due=None,
            target=None,
            coverage=None,
            terms_plan=terms_plan,
            channel_allowed=channel_allowed,
            summary=f"{self._head()}: no SLA",
        )

    def with_sla(self, reasons: list[str], terms: Plan, target: str, due: datetime) -> SlaDecision:
        terms_note = (
            f" ({terms.name} terms)"
            if self.own_plan is None or terms.id != self.own_plan.id
            else ""
        )
        return self._decision(
            reasons,
            due=due,
            target=target,
            coverage=terms.coverage,
            terms_plan=terms.id,
            channel_allowed=True,
            summary=f"{self._head()}: {target} on {terms.coverage}{terms_note}",
        )

    def _decision(
        self,
        reasons: list[str],
        *,
        due: datetime | None,
        target: str | None,
        coverage: str | None,
        terms_plan: str | None,
        channel_allowed: bool,
        summary: str,
    ) -> SlaDecision:
        return SlaDecision(
            severity=self.severity,
            due=due,
            target=target,
            coverage=coverage,
            terms_plan=terms_plan,
            channel_allowed=channel_allowed,
            policy_version=self.policy.version,
            reasons=tuple(reasons),
            plan=self.own_plan.id if self.own_plan else None,
            status=self.status,
            channel=self.channel,
            opened_at=self.opened_at,
            summary=summary,
        )


def _severity_after_channel(
    policy: Policy, channel: Channel, requested: Severity | None
) -> tuple[Severity, str]:
    fixed = policy.channel_rule(channel).severity
    if fixed is not None:
        return fixed, f"{channel} requests are always {fixed.label}"
    if requested is None:
        default = policy.default_severity
        return default, f"no severity chosen on the {channel}: {default.label} by default"
    return requested, f"severity {requested.label} chosen by the requester on the {channel}"


def _coerce(enum: type[_E], value: object, name: str) -> _E:
    try:
        return enum(str(value))
    except ValueError:
        raise ValueError(f"unknown {name} {value!r}; expected one of {choices(enum)}") from None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
