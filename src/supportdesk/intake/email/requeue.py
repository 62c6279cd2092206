"""Processing inbound mail again: the console's "Process again" and `requeue-mail`.

A mail ends `failed` only when even filing it for review failed (the database was
failing). Once the cause is fixed, it goes back to `stored` with a conditional UPDATE
(only from `failed`), then through `process_mail` like any stored mail. `process_mail`
claims the row with its own conditional UPDATE in the transaction that opens the
ticket, so two people pressing the button at once (or the button and the worker) make
one ticket: the second sees the first one's outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from supportdesk import clock
from supportdesk.accounts.models import User
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.process import Outcome, process_mail
from supportdesk.tickets import actions
from supportdesk.tickets.models import Ticket

logger = logging.getLogger(__name__)

# process_mail's last reason when the row had been processed by someone else.
_ALREADY_PROCESSED = "already processed"


class NoSuchMail(LookupError):
    pass


@dataclass(frozen=True)
class Requeued:
    outcome: Outcome
    # False when someone else processed the mail first (or it was already processed).
    processed_here: bool
    # The mail failed again: still `failed`, with the new error.
    failed_again: bool
    error: str


def requeue_mail(*, mail_id: int, by: User | None = None, via: str,
                 now: datetime | None = None) -> Requeued:
    """Set a failed mail back to stored and process it (a stored one is just processed;
    a processed one reports its outcome). `by` is the specialist who asked, `via` what
    they used ("the console", "requeue-mail"), for the ticket's trail and the log."""
    now = now or clock.now()
    previous = (
        InboundMail.objects.filter(pk=mail_id)
        .values_list("status", "error", "received_at")
        .first()
    )
    if previous is None:
        raise NoSuchMail(mail_id)
    status, error, received_at = previous
    # Only from failed: a mail being processed or already processed is not touched.
    InboundMail.objects.filter(pk=mail_id, status=InboundMail.Status.FAILED).update(
        status=InboundMail.Status.STORED
    )
    row = InboundMail.objects.get(pk=mail_id)
    if row.status == InboundMail.Status.STORED:
        who = (by.get_full_name() or by.email) if by is not None else "an operator"
        logger.warning("inbound mail %s (%s) processed again by %s via %s", mail_id, status, who, via)
    outcome = process_mail(row, now=now)
    processed_here = outcome.reasons[-1:] != [_ALREADY_PROCESSED]
    after = InboundMail.objects.filter(pk=mail_id).values_list("status", "error").get()
    failed_again = after[0] == InboundMail.Status.FAILED
    if processed_here and not failed_again and by is not None and outcome.ticket is not None:
        _note_in_trail(outcome, mail_id=mail_id, by=by, via=via, status=status, error=error,
                       received_at=received_at, now=now)
    return Requeued(outcome=outcome, processed_here=processed_here, failed_again=failed_again,
                    error=after[1] if failed_again else "")


def _note_in_trail(outcome: Outcome, *, mail_id: int, by: User, via: str, status: str,
                   error: str, received_at: datetime, now: datetime) -> None:
    """An internal note on the ticket the mail reached: who had it processed again and
    why it had not been (notes notify nobody and customers never see them)."""
    ticket = Ticket.objects.filter(number=outcome.ticket).first()
    if ticket is None:
        return
    if status == InboundMail.Status.FAILED:
        why = f"it had failed: {error}" if error else "it had failed"
    else:
        why = f"it had waited unprocessed since {received_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    actions.add_internal_note(
        ticket=ticket,
        author=by,
        body_text=f"Inbound mail {mail_id} was processed again by {by.get_full_name() or by.email} "
                  f"from {via} ({why}).",
        now=now,
    )
