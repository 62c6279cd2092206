"""Permission-checked getters for tickets and their messages.

Specialists and supervisors see every ticket; a customer contact sees only tickets of
their own account (and only public messages); anyone else sees nothing. A refusal looks
exactly like a missing ticket (Http404).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from supportdesk.accounts.access import contact_of
from supportdesk.accounts.models import User
from supportdesk.tickets.models import Attachment, Message, Ticket


def _is_agent(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)


def tickets_visible_to(user: User | AnonymousUser) -> QuerySet[Ticket]:
    if _is_agent(user):
        return Ticket.objects.all()
    contact = contact_of(user)
    if contact is None:
        return Ticket.objects.none()
    return Ticket.objects.filter(account_id=contact.account_id)


def get_ticket_for_user(user: User | AnonymousUser, *, number: int) -> Ticket:
    try:
        return tickets_visible_to(user).select_related("account", "requester", "assignee").get(
            number=number
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("no such ticket") from None


def get_ticket_for_agent(user: User | AnonymousUser, *, number: int) -> Ticket:
    """For team-only work on a ticket (notes, assignment, severity): agents only."""
    if not _is_agent(user):
        raise Http404("no such ticket")
    return get_ticket_for_user(user, number=number)


def messages_visible_to(user: User | AnonymousUser, *, ticket: Ticket) -> QuerySet[Message]:
    """The ticket's messages this user may read: customers never see internal notes."""
    visible = get_ticket_for_user(user, number=ticket.number)
    messages = Message.objects.filter(ticket=visible).prefetch_related("attachments")
    if not _is_agent(user):
        messages = messages.exclude(kind=Message.Kind.NOTE)
    return messages.order_by("created_at", "id")


def get_attachment_for_user(user: User | AnonymousUser, *, attachment_id: int) -> Attachment:
    tickets = tickets_visible_to(user)
    attachments = Attachment.objects.filter(message__ticket__in=tickets)
    if not _is_agent(user):
        attachments = attachments.exclude(message__kind=Message.Kind.NOTE)
    try:
        return attachments.select_related("message__ticket").get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("no such attachment") from None
