"""Which ticket a reply belongs to, and whether its sender may write to it.

1. In-Reply-To, then References (newest first), against the Message-IDs we sent
   (recorded by outbound) or stored for a ticket; failing that
2. the ticket tag in the subject (`[#1234]`, see `outbound.tags`).
Either way the mail is appended only when its sender may write to that ticket: the
ticket's requester, or a contact of the ticket's account, and, when the deployment
names its MTA's authserv-id, with a DMARC pass for the sender's domain. Anyone else
starts a new ticket, and nothing of the old one is revealed to them.

Solved and closed tickets (the one rule, docs/email.md): a reply to a *solved* ticket
is appended and reopens it; a reply to a *closed* ticket opens a new ticket that names
the closed one as its predecessor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from supportdesk.intake.email.mime import ParsedMail
from supportdesk.intake.service import Identification
from supportdesk.tickets.models import Status, Ticket


@dataclass
class Thread:
    ticket: Ticket | None = None
    closed: bool = False  # the reply answers a closed ticket: open a new one
    reasons: list[str] = field(default_factory=list)


def may_write(
    ticket: Ticket,
    *,
    sender: str | None,
    identify: Callable[[], Identification],
    authenticated: bool | None,
) -> bool:
    """The sender may add to this ticket by mail."""
    if not sender or authenticated is False:
        return False
    from django.conf import settings

    if settings.SUPPORTDESK_MTA_AUTHSERV_ID and authenticated is not True:
        return False
    if ticket.account_id is None:
        return sender == ticket.requester_email
    identification = identify()
    if identification.account is None or identification.account.pk != ticket.account_id:
        return False
    if sender == ticket.requester_email:
        return True
    contact = identification.contact
    return contact is not None and contact.account_id == ticket.account_id


def find_thread(
    parsed: ParsedMail, *, identify: Callable[[], Identification], authenticated: bool | None
) -> Thread:
    from supportdesk.outbound.selectors import ticket_for_message_ids
    from supportdesk.outbound.tags import find_ticket_tag

    thread = Thread()
    if parsed.problems:
        return thread  # an ambiguous or oversized mail is never appended anywhere
    candidate: Ticket | None = None
    how = ""
    ids = [f"<{m}>" for m in [*parsed.references, *parsed.in_reply_to]]
    ticket_id = ticket_for_message_ids(ids) if ids else None
    if ticket_id is not None:
        candidate = Ticket.objects.select_related("account").filter(pk=ticket_id).first()
        how = "In-Reply-To/References"
    if candidate is None:
        number = find_ticket_tag(parsed.subject)
        if number is not None:
            candidate = Ticket.objects.select_related("account").filter(number=number).first()
            how = "the subject tag"
    if candidate is None:
        return thread
    if not may_write(
        candidate,
        sender=parsed.sender.address,
        identify=identify,
        authenticated=authenticated,
    ):
        # Deliberately no ticket number in this reason's public part: it is only
        # recorded on the new ticket, which specialists see, not the sender.
        thread.reasons.append(
            f"refers to ticket #{candidate.number} by {how}, but the sender may not write to it: "
            "opened as a new ticket"
        )
        return thread
    thread.ticket = candidate
    if candidate.status == Status.CLOSED:
        thread.closed = True
        thread.reasons.append(f"reply to closed ticket #{candidate.number} by {how}")
    else:
        thread.reasons.append(f"reply to ticket #{candidate.number} by {how}")
    return thread
