"""Logging a hotline call (SPEC §4.3).

The specialist who answers types the caller's number and their notes. The number is
matched (E.164) against the contacts; the intake service opens a High ticket with the
plan's SLA when the plan includes the hotline. An unknown number, or a plan without the
hotline, is still recorded (nothing a customer says is lost) but carries no SLA, and
the result says why so the specialist can tell the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from supportdesk import clock
from supportdesk.accounts.models import Account, User
from supportdesk.accounts.validation import normalise_phone
from supportdesk.intake.service import InboundRequest, IntakeResult, receive
from supportdesk.tickets.models import Ticket


@dataclass(frozen=True)
class LoggedCall:
    ticket: Ticket
    has_sla: bool
    identified: bool
    why: str  # in words for the specialist (and to tell the caller)
    intake: IntakeResult


def caller_number(raw: str) -> str:
    """The E.164 form when the number is valid, else what was typed (still recorded)."""
    try:
        return normalise_phone(raw)
    except ValueError:
        return raw.strip()


def log_call(
    *,
    phone: str,
    notes: str,
    specialist: User,
    subject: str = "",
    caller_name: str = "",
    account: Account | None = None,
    now: datetime | None = None,
) -> LoggedCall:
    now = now or clock.now()
    number = caller_number(phone)
    result = receive(
        InboundRequest(
            channel="hotline",
            subject=subject or _("Hotline call from %(number)s") % {"number": number or "?"},
            body_text=notes,
            sender_phone=number,
            sender_name=caller_name,
            claimed_account=account,
            logged_by=specialist,
            received_at=now,
        ),
        now=now,
    )
    ticket = result.ticket
    assert ticket is not None  # the hotline is never refused: every call is recorded
    return LoggedCall(
        ticket=ticket,
        has_sla=ticket.first_response_due is not None,
        identified=result.contact is not None,
        why=_why(ticket, result, number),
        intake=result,
    )


def _why(ticket: Ticket, result: IntakeResult, number: str) -> str:
    if ticket.first_response_due is not None:
        who = result.contact.name or result.contact.email if result.contact else _("the caller")
        return _("%(who)s of %(account)s: plan includes the hotline.") % {
            "who": who,
            "account": result.account.name if result.account else "",
        }
    if result.account is None:
        return _(
            "%(number)s is not the phone number of any contact, so the call is recorded in "
            "the unidentified queue without an SLA. Move it to the caller's account once "
            "you know it."
        ) % {"number": number or _("The caller's number")}
    status = ticket.sla_account_status
    if status in ("expired", "suspended"):
        return _(
            "%(account)s's subscription is %(status)s: the call is recorded without an SLA "
            "(best effort)."
        ) % {"account": result.account.name, "status": status}
    if not ticket.sla_channel_allowed:
        from supportdesk.web.present import plan_name

        plan = plan_name(ticket.sla_terms_plan or ticket.sla_plan)
        channels = ", ".join(result.plan_channels) or _("the portal")
        return _(
            "%(account)s's plan %(plan)s does not include the hotline (it includes: "
            "%(channels)s). The call is recorded without an SLA; ask the caller to use "
            "the portal."
        ) % {"account": result.account.name, "plan": plan, "channels": channels}
    return _("The call is recorded without an SLA.")
