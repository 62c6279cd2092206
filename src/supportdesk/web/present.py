"""How tickets and SLA decisions are put into words for people (portal and console).

Pure presentation: no queries, no writes. Times are returned as instants; templates
render them in the viewer's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STATUS_LABELS = {
    "new": pgettext_lazy("ticket status", "New"),
    "open": pgettext_lazy("ticket status", "Open"),
    "pending": pgettext_lazy("ticket status", "Waiting for you"),
    "solved": pgettext_lazy("ticket status", "Solved"),
    "closed": pgettext_lazy("ticket status", "Closed"),
}
AGENT_STATUS_LABELS = {**STATUS_LABELS, "pending": pgettext_lazy("ticket status", "Pending")}
SEVERITY_LABELS = {"high": _("High"), "medium": _("Medium"), "low": _("Low")}
CHANNEL_LABELS = {"portal": _("portal"), "email": _("email"), "hotline": _("hotline")}
QUEUE_LABELS = {"customer": _("customer"), "unidentified": _("unidentified"), "review": _("review")}
ACCOUNT_STATUS_LABELS = {
    "active": _("active"),
    "trial": _("trial"),
    "expired": _("expired"),
    "suspended": _("suspended"),
}


def active_policy() -> Any:
    from supportdesk.core.policy_source import active_policy as load

    return load()


def plan_name(plan_id: str, policy: Any | None = None) -> str:
    if not plan_id:
        return ""
    policy = policy or active_policy()
    plan = policy.plans.get(plan_id)
    return plan.name if plan is not None else plan_id


def sla_summary(ticket: Any, policy: Any | None = None) -> str:
    """'Gold, active, High via portal: 30 min on 24x7' — the decision in one line."""
    policy = policy or active_policy()
    head = (
        f"{plan_name(ticket.sla_plan, policy)}, "
        f"{ACCOUNT_STATUS_LABELS.get(ticket.sla_account_status, ticket.sla_account_status)}"
        if ticket.sla_plan
        else str(_("unidentified requester"))
    )
    head = f"{head}, {SEVERITY_LABELS.get(ticket.severity, ticket.severity)} " + str(
        _("via %(channel)s") % {"channel": CHANNEL_LABELS.get(ticket.channel, ticket.channel)}
    )
    if ticket.first_response_due is None:
        return f"{head}: " + str(_("no SLA"))
    terms = ""
    if ticket.sla_terms_plan and ticket.sla_terms_plan != ticket.sla_plan:
        terms = " " + str(
            _("(%(plan)s terms)") % {"plan": plan_name(ticket.sla_terms_plan, policy)}
        )
    return f"{head}: " + str(
        _("%(target)s on %(coverage)s") % {"target": ticket.sla_target, "coverage": ticket.sla_coverage}
    ) + terms


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its first-response target."""

    state: str  # "none" (no SLA), "met", "missed", "running", "breached"
    left: timedelta | None  # on the ticket's own coverage clock; negative when overdue
    soon: bool = False


def first_response_clock(
    ticket: Any, *, now: datetime, policy: Any | None = None, soon: timedelta = timedelta(hours=1)
) -> Clock:
    """Time left counted on the ticket's clock: a 12x5 ticket's time left does not fall
    overnight or at the weekend (policy.business_time_between on its coverage calendar)."""
    due = ticket.first_response_due
    if due is None:
        return Clock("none", None)
    if ticket.first_responded_at is not None:
        return Clock("met" if ticket.first_response_met else "missed", None)
    from supportdesk.policy.business_time import business_time_between

    policy = policy or active_policy()
    calendar = policy.calendars.get(ticket.sla_coverage)
    if calendar is None:  # a coverage gone from a newer policy: fall back to wall time
        left = due - now
    elif due >= now:
        left = business_time_between(now, due, calendar)
    else:
        left = -business_time_between(due, now, calendar)
    if due <= now:
        return Clock("breached", left)
    return Clock("running", left, soon=due - now <= soon)


SHOWN_EVENT_FIELDS = (
    "severity", "status", "queue", "account", "assignee", "first_response_due", "sla_target",
    "sla_coverage", "sla_terms_plan",
)


def _value(raw: Any) -> Any:
    if isinstance(raw, str) and len(raw) >= 19 and raw[4] == "-" and raw[10] == "T":
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
    return raw


def event_changes(event: Any) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for the fields a person cares about; instants as datetimes."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    changes = []
    for name in SHOWN_EVENT_FIELDS:
        if name in after and (name not in before or before[name] != after[name]):
            changes.append((name, _value(before.get(name)), _value(after[name])))
    return changes
