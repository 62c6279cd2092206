"""Signed webhooks (on-call pages), delivered by a django-tasks task with retries.

The body is JSON; `X-Supportdesk-Signature: sha256=<hex>` is the HMAC-SHA256 of the
exact body bytes with SUPPORTDESK_ONCALL_WEBHOOK_SECRET, so the receiver can check the
page came from us (compare with `hmac.compare_digest`). The body carries `sent_at`;
receivers should refuse old ones. Delivery mirrors the mail queue: the row is written
in the caller's transaction, the task is enqueued on commit, a worker claims the row
with a conditional UPDATE (queued -> sending), and a failure is retried with
exponential backoff until SUPPORTDESK_WEBHOOK_MAX_ATTEMPTS.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from supportdesk import clock
from supportdesk.sla.models import WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Supportdesk-Signature"
DELIVERY_HEADER = "X-Supportdesk-Delivery"
TIMEOUT_SECONDS = 10
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
SENDING_LEASE = timedelta(minutes=5)
FLUSH_GRACE = timedelta(minutes=2)


def sign(body: bytes, secret: str | None = None) -> str:
    """The signature header value for `body`."""
    key = (settings.SUPPORTDESK_ONCALL_WEBHOOK_SECRET if secret is None else secret).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def enqueue_webhook(*, url: str, body: bytes, attempt: Any = None, now: datetime | None = None) -> WebhookDelivery:
    """Queue one POST; the task is enqueued when the surrounding transaction commits."""
    now = now or clock.now()
    delivery = WebhookDelivery.objects.create(
        attempt=attempt, url=url, body=body.decode(), next_attempt_at=now, created_at=now
    )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: schedule_delivery(delivery_id), robust=True)
    return delivery


def schedule_delivery(delivery_id: int, *, run_after: datetime | None = None) -> None:
    from supportdesk.sla.tasks import deliver_webhook

    try:
        task = deliver_webhook.using(run_after=run_after) if run_after else deliver_webhook
        task.enqueue(delivery_id)
    except Exception:
        logger.exception("could not enqueue webhook %s; the worker's flush will send it", delivery_id)


def deliver(delivery_id: int, *, now: datetime | None = None, early: bool = False) -> str:
    """Try one POST. Returns "delivered", "retry", "failed" or "skipped"."""
    now = now or clock.now()
    due = WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.QUEUED)
    if not early:
        due = due.filter(next_attempt_at__lte=now)
    if not due.update(status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return "skipped"
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    body = delivery.body.encode()
    request = urllib.request.Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "supportdesk-webhook/1",
            SIGNATURE_HEADER: sign(body),
            DELIVERY_HEADER: str(delivery.pk),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return _failed(delivery, f"HTTP {exc.code}", now, status=exc.code,
                       permanent=400 <= exc.code < 500 and exc.code not in (408, 429))
    except (urllib.error.URLError, OSError) as exc:
        return _failed(delivery, str(getattr(exc, "reason", exc)), now)
    WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.SENDING).update(
        status=WebhookDelivery.Status.DELIVERED, delivered_at=now, response_status=status, last_error=""
    )
    return "delivered"


def _failed(delivery: WebhookDelivery, error: str, now: datetime, *, status: int | None = None,
            permanent: bool = False) -> str:
    attempts = delivery.attempts
    if permanent or attempts >= settings.SUPPORTDESK_WEBHOOK_MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(id=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, last_error=error[:2000], response_status=status
        )
        logger.warning("webhook %s to %s failed for good: %s", delivery.pk, delivery.url, error)
        return "failed"
    later = now + min(RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP)
    WebhookDelivery.objects.filter(id=delivery.pk).update(
        status=WebhookDelivery.Status.QUEUED, next_attempt_at=later,
        last_error=error[:2000], response_status=status,
    )
    schedule_delivery(delivery.pk, run_after=later)
    return "retry"


def flush(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver what lost its task (and what a dead worker left in "sending")."""
    now = now or clock.now()
    WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - SENDING_LEASE
    ).update(status=WebhookDelivery.Status.QUEUED)
    stale = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.QUEUED, next_attempt_at__lte=now - FLUSH_GRACE
        ).values_list("id", flat=True)[:limit]
    )
    return sum(deliver(delivery_id, now=now) != "skipped" for delivery_id in stale)
