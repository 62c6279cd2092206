"""Background tasks of the "mail" queue (django-tasks, run by the database worker)."""

from __future__ import annotations

import logging

from django_tasks import task

from supportdesk.outbound import queue

logger = logging.getLogger(__name__)


@task(queue_name="mail")
def deliver_mail(mail_id: int) -> str:
    """Send one queued mail (scheduled on commit by `queue.enqueue_mail`)."""
    return queue.deliver(mail_id)


@task(queue_name="mail")
def deliver_mails(mail_ids: list[int]) -> dict[str, int]:
    """Send several queued mails (one task for a batch: `queue.batched_delivery`)."""
    outcomes: dict[str, int] = {}
    for mail_id in mail_ids:
        try:
            outcome = queue.deliver(mail_id)
        except Exception:  # one mail's trouble does not hold up the others; flush retries it
            logger.exception("delivering outbound mail %s failed", mail_id)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@task(queue_name="mail")
def flush_mail() -> dict[str, int]:
    """Deliver mail whose task was lost; meant to be enqueued every few minutes."""
    return dict(queue.flush())
