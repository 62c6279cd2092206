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


def _value(raw: Any) -> Any:
    if isinstance(raw, str) and len(raw) >= 19 and raw[4] == "-" and raw[10] == "T":
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
    return raw


# --- the audit trail in words ------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A sentence of the audit trail; `moment`, when given, is rendered after the text
    in the viewer's zone ("First response due moved to <time>")."""

    text: str
    moment: datetime | None = None


@dataclass(frozen=True)
class TrailEntry:
    title: Line
    who: str
    at: datetime
    reason: str = ""
    details: tuple[Line, ...] = ()


OPENED_BY = {
    "email": _("Opened by email"),
    "portal": _("Opened in the portal"),
    "hotline": _("Opened by a hotline call"),
}
ACTOR_LABELS = {
    "SLA worker": _("SLA worker"),
    "email intake": _("email intake"),
    "portal intake": _("portal intake"),
    "hotline intake": _("hotline intake"),
    "api intake": _("API intake"),
}
SIMPLE_TITLES = {
    "customer_message": _("Customer wrote"),
    "public_reply": _("Replied to the customer"),
    "internal_note": _("Internal note added"),
    "system_message": _("Automatic message recorded"),
    "sla_warning": _("SLA warning"),
}


def _instant(raw: Any) -> datetime | None:
    value = _value(raw)
    return value if isinstance(value, datetime) else None


def _sla_lines(before: dict[str, Any], after: dict[str, Any], policy: Any, ticket_plan: str) -> list[Line]:
    """What changed in a ticket's SLA, in sentences (empty when nothing did)."""
    lines: list[Line] = []
    if "first_response_due" in after and before.get("first_response_due") != after["first_response_due"]:
        due = _instant(after["first_response_due"])
        if due is None:
            lines.append(Line(str(_("No first-response target any more"))))
        elif "first_response_due" in before:
            lines.append(Line(str(_("First response due moved to")), due))
        else:
            lines.append(Line(str(_("First response due")), due))
    target, coverage = after.get("sla_target") or "", after.get("sla_coverage") or ""
    changed = any(
        name in after and before.get(name, "") != after[name] for name in ("sla_target", "sla_coverage")
    )
    if target and changed:
        lines.append(Line(str(_("Target: %(target)s on %(coverage)s") % {"target": target, "coverage": coverage})))
    terms = after.get("sla_terms_plan") or ""
    if terms and terms != ticket_plan and before.get("sla_terms_plan") != terms:
        lines.append(Line(str(_("Under the terms of plan %(plan)s") % {"plan": plan_name(terms, policy)})))
    return lines


def _status_line(before: dict[str, Any], after: dict[str, Any]) -> list[Line]:
    old, new = before.get("status"), after.get("status")
    if not old or not new or old == new:
        return []
    return [Line(str(_("Status changed from %(old)s to %(new)s") % {
        "old": AGENT_STATUS_LABELS.get(old, old), "new": AGENT_STATUS_LABELS.get(new, new),
    }))]


def describe_event(
    event: Any,
    *,
    names: dict[str, str],
    accounts: dict[str, str],
    ticket_plan: str = "",
    policy: Any | None = None,
) -> TrailEntry:
    """One audit event in words for a specialist: 'Assigned to Ana Lima', 'Severity
    changed from Medium to High', 'SLA breached at <time>'. `names` maps e-mail
    addresses to people's names and `accounts` slugs to account names (the caller
    looks them up); unknown kinds fall back to their name in plain words."""
    policy = policy or active_policy()
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    kind = event.kind
    details: list[Line] = []
    title: Line
    if kind == "opened":
        channel = after.get("channel", "")
        title = Line(str(OPENED_BY.get(channel, pgettext_lazy("audit trail", "Opened"))))
        severity = after.get("severity", "")
        requested = after.get("requested_severity") or ""
        if severity:
            text = _("Severity %(severity)s") % {"severity": SEVERITY_LABELS.get(severity, severity)}
            if requested and requested != severity:
                text += " " + _("(asked for %(severity)s)") % {
                    "severity": SEVERITY_LABELS.get(requested, requested)
                }
            details.append(Line(str(text)))
        slug = after.get("account")
        if slug:
            details.append(Line(str(_("Account %(account)s") % {"account": accounts.get(slug, slug)})))
        queue = after.get("queue", "")
        if queue and queue != "customer":
            details.append(Line(str(_("In the %(queue)s queue") % {"queue": QUEUE_LABELS.get(queue, queue)})))
        if after.get("first_response_due") is None and "first_response_due" in after:
            details.append(Line(str(_("No SLA"))))
        details.extend(_sla_lines({}, after, policy, ticket_plan))
    elif kind == "severity_changed":
        old, new = before.get("severity", ""), after.get("severity", "")
        title = Line(str(_("Severity changed from %(old)s to %(new)s") % {
            "old": SEVERITY_LABELS.get(old, old), "new": SEVERITY_LABELS.get(new, new),
        }))
        details.extend(_sla_lines(before, after, policy, ticket_plan))
    elif kind == "assigned":
        new, old = after.get("assignee"), before.get("assignee")
        if new:
            title = Line(str(_("Assigned to %(name)s") % {"name": names.get(new, new)}))
            if old:
                details.append(Line(str(_("Previously %(name)s") % {"name": names.get(old, old)})))
        else:
            title = Line(str(_("Unassigned")))
            if old:
                details.append(Line(str(_("Previously %(name)s") % {"name": names.get(old, old)})))
    elif kind == "status_changed":
        old, new = before.get("status", ""), after.get("status", "")
        title = Line(str(_("Status changed from %(old)s to %(new)s") % {
            "old": AGENT_STATUS_LABELS.get(old, old), "new": AGENT_STATUS_LABELS.get(new, new),
        }))
    elif kind == "moved_to_account":
        slug = after.get("account", "")
        title = Line(str(_("Moved to the account %(account)s") % {"account": accounts.get(slug, slug)}))
        if after.get("requester"):
            details.append(Line(str(_("Requester %(email)s") % {"email": after["requester"]})))
        details.extend(_sla_lines(before, after, policy, ticket_plan))
    elif kind == "sla_breached":
        due = _instant(after.get("first_response_due")) or event.at
        title = Line(str(_("SLA breached at")), due)
        noticed = _instant(after.get("noticed_at"))
        if noticed is not None and noticed - due >= timedelta(minutes=1):
            details.append(Line(str(_("Noticed at")), noticed))
    elif kind == "sla_warning":
        title = Line(str(SIMPLE_TITLES[kind]))
        due = _instant(after.get("first_response_due"))
        if due is not None:
            details.append(Line(str(_("First response due")), due))
    elif kind in SIMPLE_TITLES:
        title = Line(str(SIMPLE_TITLES[kind]))
        if kind == "public_reply" and "first_responded_at" in after:
            met = after.get("first_response_met")
            details.append(Line(str(
                _("First response, within the SLA") if met is True
                else _("First response, after the due time") if met is False
                else _("First response")
            )))
        details.extend(_status_line(before, after))
    else:
        title = Line(kind.replace("_", " ").capitalize())
    if event.actor is not None:
        who = event.actor.get_full_name() or event.actor.email
    else:
        label = event.actor_label or "supportdesk"
        who = str(ACTOR_LABELS.get(label, label))
    return TrailEntry(title=title, who=who, at=event.at, reason=event.reason, details=tuple(details))


def trail_lookups(events: list[Any]) -> tuple[set[str], set[str]]:
    """The e-mail addresses (assignees) and account slugs the events name."""
    emails: set[str] = set()
    slugs: set[str] = set()
    for event in events:
        for side in (event.before, event.after):
            if not isinstance(side, dict):
                continue
            if event.kind == "assigned" and side.get("assignee"):
                emails.add(side["assignee"])
            if event.kind in ("opened", "moved_to_account") and side.get("account"):
                slugs.add(side["account"])
    return emails, slugs
