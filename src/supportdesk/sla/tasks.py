"""Background tasks of the "sla" queue (django-tasks, run by `supportdesk worker`)."""

from __future__ import annotations

from django_tasks import task

from supportdesk.sla import webhooks


@task(queue_name="sla")
def deliver_webhook(delivery_id: int) -> str:
    """POST one signed webhook (retried with backoff by re-enqueueing itself)."""
    return webhooks.deliver(delivery_id)
