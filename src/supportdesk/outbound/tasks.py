"""Background tasks of the "mail" queue (django-tasks, run by the database worker)."""

from __future__ import annotations

from django_tasks import task

from supportdesk.outbound import queue


@task(queue_name="mail")
def deliver_mail(mail_id: int) -> str:
    """Send one queued mail (scheduled on commit by `queue.enqueue_mail`)."""
    return queue.deliver(mail_id)


@task(queue_name="mail")
def flush_mail() -> dict[str, int]:
    """Deliver mail whose task was lost; meant to be enqueued every few minutes."""
    return dict(queue.flush())
