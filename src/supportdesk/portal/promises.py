"""What the portal promises after a ticket is opened, in the requester's words and zone."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from supportdesk.web.present import plan_name
from supportdesk.web.templatetags.desk import when_text


def manager_line(account: Any) -> str:
    manager = account.account_manager
    if manager is None:
        return _("Please contact your account manager.")
    return _("Please contact your account manager, %(name)s <%(email)s>.") % {
        "name": manager.get_full_name(),
        "email": manager.email,
    }


def promise_after_opening(ticket: Any, account: Any) -> str:
    """'Ticket #12 is open. First response by Mon 13 Jan 2025, 09:00 America/Sao_Paulo.'
    or why there is no such promise."""
    head = _("Ticket #%(n)s is open.") % {"n": ticket.number}
    status = ticket.sla_account_status
    if ticket.first_response_due is not None:
        promise = _("First response by %(when)s.") % {"when": when_text(ticket.first_response_due)}
        if status == "trial" or (ticket.sla_terms_plan and ticket.sla_terms_plan != ticket.sla_plan):
            promise += " " + _(
                "Your account is on a trial, so %(terms)s terms apply: %(target)s on the "
                "%(coverage)s clock."
            ) % {
                "terms": plan_name(ticket.sla_terms_plan),
                "target": ticket.sla_target,
                "coverage": ticket.sla_coverage,
            }
        return f"{head} {promise}"
    if status in ("expired", "suspended"):
        why = (
            _("Your account's subscription has expired")
            if status == "expired"
            else _("Your account is suspended")
        )
        return f"{head} " + _(
            "%(why)s, so there is no guaranteed first-response time: we handle it on a "
            "best-effort basis."
        ) % {"why": why} + " " + manager_line(account)
    if not ticket.sla_channel_allowed and ticket.sla_plan:
        return f"{head} " + _(
            "Your plan does not include this channel, so there is no guaranteed "
            "first-response time."
        )
    return f"{head} " + _("There is no guaranteed first-response time for this ticket.")
