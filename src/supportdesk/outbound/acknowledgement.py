"""What the acknowledgement of a new ticket promises, from the ticket's frozen SLA fields.

Either the first-response promise ("Mon 30 Nov, 15:00 BRT", on the coverage calendar's
clock) or the reason there is none, in the order the policy decides them: not
identified, account expired or suspended, channel outside the (trial) terms.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_noop

from supportdesk.outbound.formatting import format_due
from supportdesk.outbound.formatting import gettext as _


class NoSlaReason:
    NOT_IDENTIFIED = "not_identified"
    EXPIRED = "account_expired"
    SUSPENDED = "account_suspended"
    TRIAL_CHANNEL = "trial_terms_channel"
    PLAN_CHANNEL = "channel_not_in_plan"
    OTHER = "no_sla"


# Only the label asked for is translated (this runs for every acknowledgement).
_SEVERITY_LABELS = {
    "low": gettext_noop("Low"),
    "medium": gettext_noop("Medium"),
    "high": gettext_noop("High"),
}
_CHANNEL_LABELS = {
    "portal": gettext_noop("the Desk Portal"),
    "email": gettext_noop("email"),
    "hotline": gettext_noop("the hotline (emergencies only)"),
}


def severity_label(severity: str) -> str:
    label = _SEVERITY_LABELS.get(str(severity))
    return _(label) if label else str(severity).capitalize()


def channel_label(channel: str) -> str:
    label = _CHANNEL_LABELS.get(str(channel))
    return _(label) if label else str(channel)


def join_words(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c" in the active language."""
    if len(words) <= 1:
        return "".join(words)
    return _("%(items)s and %(last)s") % {"items": ", ".join(words[:-1]), "last": words[-1]}


def _policy() -> Any:
    from supportdesk.core.policy_source import active_policy

    return active_policy()


def coverage_zone(ticket: Any) -> ZoneInfo:
    """The time zone of the ticket's coverage calendar (the clock the promise runs on)."""
    if ticket.sla_coverage:
        try:
            return _policy().calendar(ticket.sla_coverage).zone  # type: ignore[no-any-return]
        except Exception:  # an old ticket's calendar no longer in the policy
            pass
    return ZoneInfo("UTC")


def _plan_name_and_channels(plan_id: str) -> tuple[str, list[str]]:
    try:
        plan = _policy().plan(plan_id)
    except Exception:
        return plan_id, []
    return plan.name, [channel_label(channel.value) for channel in plan.channel_list()]


def no_sla_reason(ticket: Any) -> str | None:
    """Why the ticket has no first-response due time (a `NoSlaReason`), or None if it has one."""
    if ticket.first_response_due is not None:
        return None
    if ticket.account_id is None:
        return NoSlaReason.NOT_IDENTIFIED
    status = ticket.sla_account_status
    if status == "expired":
        return NoSlaReason.EXPIRED
    if status == "suspended":
        return NoSlaReason.SUSPENDED
    if not ticket.sla_channel_allowed:
        return NoSlaReason.TRIAL_CHANNEL if status == "trial" else NoSlaReason.PLAN_CHANNEL
    return NoSlaReason.OTHER


def _reason_text(reason: str, ticket: Any) -> str:
    if reason == NoSlaReason.NOT_IDENTIFIED:
        return _(
            "We could not match your address to a customer account, so this request has no "
            "guaranteed response time. If your company has a support plan, please write from "
            "your company address or ask your point of contact to open the ticket in the portal."
        )
    if reason in (NoSlaReason.EXPIRED, NoSlaReason.SUSPENDED):
        state = _("expired") if reason == NoSlaReason.EXPIRED else _("suspended")
        return _(
            "Your account's support subscription is %(state)s, so this request is handled on a "
            "best-effort basis with no guaranteed response time."
        ) % {"state": state}
    if reason == NoSlaReason.TRIAL_CHANNEL:
        name, channels = _plan_name_and_channels(ticket.sla_terms_plan or ticket.sla_plan)
        channel = channel_label(ticket.channel)
        return _(
            "During a trial, support follows the terms of %(plan)s, which do not include "
            "support by %(channel)s, so this request has no guaranteed response time. "
            "Those terms include %(channels)s."
        ) % {"plan": name, "channel": channel, "channels": join_words(channels)}
    if reason == NoSlaReason.PLAN_CHANNEL:
        name, channels = _plan_name_and_channels(ticket.sla_plan or ticket.sla_terms_plan)
        channel = channel_label(ticket.channel)
        return _(
            "Your plan, %(plan)s, does not include support by %(channel)s, so this request has "
            "no guaranteed response time. Your plan includes %(channels)s."
        ) % {"plan": name, "channel": channel, "channels": join_words(channels)}
    return _("This request has no guaranteed response time.")


def acknowledgement_context(ticket: Any, *, now: Any = None) -> dict[str, Any]:
    """The template context of the acknowledgement (call with the language active)."""
    reason = no_sla_reason(ticket)
    due_text = (
        format_due(ticket.first_response_due, coverage_zone(ticket)) if reason is None else ""
    )
    identified_active = ticket.account_id is not None and ticket.sla_account_status == "active"
    return {
        "ticket": ticket,
        "number": ticket.number,
        "subject": ticket.subject,
        "requester_name": ticket.requester_name,
        "severity": severity_label(ticket.severity),
        "due_text": due_text,
        "no_sla_reason": reason,
        "no_sla_text": _reason_text(reason, ticket) if reason else "",
        # Customers with an active subscription are asked to prefer the portal (SPEC 4.2).
        # (A plan without email already hears which channels it includes.)
        "recommend_portal": identified_active and reason in (None, NoSlaReason.OTHER),
        "portal_url": f"{settings.SITE_URL}/portal/",
    }


def acknowledgement_text(context: dict[str, Any]) -> str:
    """The text of the acknowledgement (call with the language active).

    Plain string formatting with the catalogue's messages: it runs for every new ticket
    from email, and a Django template render cost more than everything else the
    acknowledgement does. The messages are the ones `outbound/locale` translates.
    """
    name = context["requester_name"]
    number = context["number"]
    lines = [
        _("Hello %(requester_name)s,") % {"requester_name": name} if name else _("Hello,"),
        "",
        _("We have received your request and opened ticket #%(number)s.") % {"number": number},
        "",
        f"{_('Subject:')} {context['subject']}",
        f"{_('Severity:')} {context['severity']}",
        "",
        _("You will get a first response by %(due_text)s.") % {"due_text": context["due_text"]}
        if context["due_text"]
        else str(context["no_sla_text"]),
    ]
    if context["recommend_portal"]:
        lines += [
            "",
            _(
                "Customers with a support plan are asked to prefer the Desk Portal: there your "
                "account's points of contact open tickets with the severity they choose and "
                "follow every ticket. %(portal_url)s"
            )
            % {"portal_url": context["portal_url"]},
        ]
    lines += [
        "",
        _("To add information, reply to this message and keep [#%(number)s] in the subject.")
        % {"number": number},
        "",
        "-- ",
        _("Support team"),
        _("This is an automatic message."),
    ]
    return "\n".join(lines).strip() + "\n"
