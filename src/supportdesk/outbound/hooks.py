"""Hooks run by `tickets.notify` after a ticket change commits.

Listed by dotted path in `tickets.notify.HOOKS`; each takes one `TicketChange`.
"""

from __future__ import annotations

from typing import Any

from supportdesk.outbound.services import send_public_reply


def mail_public_reply(change: Any) -> None:
    """ "public_reply": mail the specialist's reply to the requester.

    Runs right after the reply committed; the mail row commits on its own and its
    delivery is scheduled at once. The reply is looked up again so that what is mailed
    is what was committed.
    """
    from supportdesk.tickets.models import Message

    if change.message_id is None:
        return
    message = (
        Message.objects.select_related("ticket", "ticket__requester", "author_user")
        .filter(pk=change.message_id, kind=Message.Kind.REPLY)
        .first()
    )
    if message is None:
        return
    send_public_reply(message)
