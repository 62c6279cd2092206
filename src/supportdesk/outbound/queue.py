"""The one way mail leaves supportdesk: enqueue in the caller's transaction, deliver after.

1. `enqueue_mail` writes an `OutboundMail` row inside the caller's transaction (a
   rolled-back ticket leaves no row, so no mail) and schedules the `deliver_mail` task
   on the "mail" queue for after the commit.
   (With the database task backend on the same database, which is the configured
   one, the task row is written in the caller's transaction instead: it commits or
   rolls back with the mail. Bulk callers wrap many mails in `batched_delivery`, which
   writes one `deliver_mails` task for all of them at the end of the block.)
2. `deliver` claims the row with a conditional UPDATE (queued -> sending), so two
   workers, or a worker and `supportdesk send-mail`, never send it twice; then sends it
   through Django's email backend. A failure puts it back to queued with a later
   `next_attempt_at` (exponential backoff) and enqueues a deferred task; a permanent
   refusal (SMTP 5xx) or the last allowed attempt marks it failed.
3. `flush` is the safety net run periodically: rows whose task was lost (a crash
   between commit and enqueue, a wiped task table) and rows left in "sending" by a
   worker that died mid-send are delivered from the table itself.

Delivery is at-least-once: a worker that dies after the relay accepted a mail but
before recording it may see the mail resent (same Message-ID) once its lease ran out.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import router, transaction
from django.db.models import F

from supportdesk import clock
from supportdesk.core import rows
from supportdesk.outbound.headers import (
    LOOP_HEADER,
    bare_address,
    loop_header_value,
    make_message_id,
    normalise_message_id,
)
from supportdesk.outbound.models import OutboundMail

logger = logging.getLogger(__name__)

# Backoff after the n-th failed attempt: 1, 2, 4, ... minutes, never more than an hour.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
# A row claimed longer ago than this belongs to a worker that died; it is sent again.
SENDING_LEASE = timedelta(minutes=10)
# Per-send network timeout, used when EMAIL_TIMEOUT is unset (smaller than the lease).
SEND_TIMEOUT_SECONDS = 60
# A queued row this far past due has lost its task; `flush` delivers it.
FLUSH_GRACE = timedelta(minutes=2)
FLUSH_BATCH = 500


def enqueue_mail(
    *,
    kind: str,
    to: Iterable[str],
    subject: str,
    text: str,
    html: str = "",
    cc: Iterable[str] = (),
    attachments: Iterable[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    ticket: Any = None,
    ticket_message: Any = None,
    language: str = "",
    from_email: str | None = None,
    now: datetime | None = None,
) -> OutboundMail:
    """Queue one mail; it is sent after the surrounding transaction commits.

    `headers` may carry In-Reply-To, References, Auto-Submitted and the like; a
    Message-ID is generated (unless given) and the loop header is always added. The
    row is returned with its `message_id` already recorded.
    """
    mail = NewMail(
        kind=kind, to=to, subject=subject, text=text, html=html, cc=cc,
        attachments=attachments, headers=headers, ticket=ticket,
        ticket_message=ticket_message, language=language, from_email=from_email,
    )
    return enqueue_mails([mail], now=now)[0]


@dataclass
class NewMail:
    """One mail to queue: `enqueue_mail`'s arguments, for `enqueue_mails`."""

    kind: str
    to: Iterable[str]
    subject: str
    text: str
    html: str = ""
    cc: Iterable[str] = ()
    attachments: Iterable[Mapping[str, str]] = ()
    headers: Mapping[str, str] | None = None
    ticket: Any = None
    ticket_message: Any = None
    language: str = ""
    from_email: str | None = None


def enqueue_mails(mails: Sequence[NewMail], *, now: datetime | None = None) -> list[OutboundMail]:
    """Queue many mails at once, each exactly as `enqueue_mail` queues it (same row,
    headers and delivery), with one multi-row INSERT: for bulk callers, who would
    otherwise pay a statement (and, on PostgreSQL, a round trip) per mail."""
    if not mails:
        return []
    now = now or clock.now()
    alias = router.db_for_write(OutboundMail)
    values = [_row_values(mail, now) for mail in mails]
    # The prepared multi-row INSERT (the ORM's save() costs more than the statement).
    ids = dict(
        rows.insert_many(OutboundMail, values, returning=("message_id", "id"), using=alias)
    )
    queued = []
    for mail, row in zip(mails, values, strict=True):
        row["id"] = ids[row["message_id"]]
        instance = rows.instance(OutboundMail, row, using=alias)
        rows.remember(instance, "ticket", mail.ticket)
        rows.remember(instance, "ticket_message", mail.ticket_message)
        queued.append(instance)
    _schedule([row["id"] for row in values], alias)
    return queued


def _row_values(mail: NewMail, now: datetime) -> dict[str, Any]:
    """The queue row of a mail (attname -> value), Message-ID and loop header included."""
    to_list = [address for address in mail.to if address]
    if not to_list:
        raise ValueError("a mail needs at least one recipient")
    extra = {name: value for name, value in (mail.headers or {}).items() if value}
    given_id = next((v for k, v in extra.items() if k.lower() == "message-id"), None)
    extra = {k: v for k, v in extra.items() if k.lower() not in ("message-id", LOOP_HEADER.lower())}
    message_id = (given_id and normalise_message_id(given_id)) or make_message_id()
    all_headers = {"Message-ID": message_id, **extra, LOOP_HEADER: loop_header_value(message_id)}
    return {
        "kind": mail.kind,
        "status": OutboundMail.Status.QUEUED,
        "ticket_id": mail.ticket.pk if mail.ticket is not None else None,
        "ticket_message_id": mail.ticket_message.pk if mail.ticket_message is not None else None,
        "from_email": mail.from_email or settings.DEFAULT_FROM_EMAIL,
        "to": to_list,
        "cc": [address for address in mail.cc if address],
        "recipient": bare_address(to_list[0]),
        "subject": " ".join(mail.subject.split()),  # no header injection through a subject
        "text": mail.text,
        "html": mail.html,
        "attachments": [dict(item) for item in mail.attachments],
        "headers": all_headers,
        "message_id": message_id,
        "language": mail.language,
        "next_attempt_at": now,
        "created_at": now,
    }


def _schedule(mail_ids: list[int], alias: str) -> None:
    """Delivery of mails just queued on `alias`, in the caller's transaction when it can."""
    batch = _delivery_batch.get()
    commit_with_mail = _tasks_commit_with_mail()
    if batch is not None and batch.alias == alias and commit_with_mail:
        # Inside `batched_delivery`: one task for the whole batch, written at its end.
        batch.mail_ids.extend(mail_ids)
    elif commit_with_mail:
        # The task row joins the caller's transaction: it becomes visible to workers
        # exactly when the mail does, and disappears with it on rollback. No window in
        # which a crash loses the task, and no extra commit per mail.
        for mail_id in mail_ids:
            schedule_delivery(mail_id)
    else:
        for mail_id in mail_ids:
            transaction.on_commit(functools.partial(schedule_delivery, mail_id), robust=True)


def _tasks_commit_with_mail() -> bool:
    """True inside a transaction when delivery tasks are rows of this same database."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from supportdesk.outbound.tasks import deliver_mail

    alias = router.db_for_write(OutboundMail)
    return (
        transaction.get_connection(alias).in_atomic_block
        and isinstance(deliver_mail.get_backend(), DatabaseBackend)
        and router.db_for_write(DBTaskResult) == alias
    )


@dataclass
class _DeliveryBatch:
    alias: str
    mail_ids: list[int] = field(default_factory=list)


_delivery_batch: ContextVar[_DeliveryBatch | None] = ContextVar("delivery_batch", default=None)


@contextmanager
def batched_delivery() -> Iterator[None]:
    """Inside one transaction, queue many mails with ONE delivery task for all of them.

    For bulk work (the email channel processes 200 mails per transaction): each mail is
    still its own queue row, written where `enqueue_mail` is called, but instead of one
    django-tasks row per mail, a single `deliver_mails` task row listing them is written
    when the block ends, in the same transaction, so it commits (or rolls back) with
    them. A mail whose savepoint rolled back is listed but skipped by `deliver` (no
    row). Should the block end in an exception, no task is written: the caller's
    transaction is rolling back; if it commits after all, `flush` delivers the rows.
    Outside a transaction, or with a task backend that is not this database, mails are
    scheduled one by one as usual.
    """
    alias = router.db_for_write(OutboundMail)
    if not transaction.get_connection(alias).in_atomic_block or _delivery_batch.get():
        yield
        return
    batch = _DeliveryBatch(alias=alias)
    token = _delivery_batch.set(batch)
    try:
        yield
    finally:
        _delivery_batch.reset(token)
    if batch.mail_ids:
        schedule_batch_delivery(batch.mail_ids)


def schedule_batch_delivery(mail_ids: list[int]) -> None:
    """Enqueue one task delivering these mails; a failure is logged, `flush` sends them."""
    from supportdesk.outbound.tasks import deliver_mails

    try:
        with transaction.atomic(using=router.db_for_write(OutboundMail)):
            deliver_mails.enqueue(list(mail_ids))
    except Exception:
        logger.exception(
            "could not enqueue delivery of %s outbound mails; flush will send them", len(mail_ids)
        )


def schedule_delivery(mail_id: int, *, run_after: datetime | None = None) -> None:
    """Enqueue the delivery task; a failure here is logged, and `flush` sends the mail."""
    from supportdesk.outbound.tasks import deliver_mail

    try:
        task = deliver_mail.using(run_after=run_after) if run_after else deliver_mail
        # A savepoint, so that a failing enqueue cannot spoil the caller's transaction.
        with transaction.atomic(using=router.db_for_write(OutboundMail)):
            task.enqueue(mail_id)
    except Exception:
        logger.exception(
            "could not enqueue delivery of outbound mail %s; flush will send it", mail_id
        )


def deliver(mail_id: int, *, now: datetime | None = None, early: bool = False) -> str:
    """Try to send one queued mail once. Returns "sent", "retry", "failed" or "skipped".

    "skipped" means there was nothing to do: another worker holds or sent it, it
    failed for good, or (unless `early`) its next attempt is not due yet.
    """
    now = now or clock.now()
    due = OutboundMail.objects.filter(id=mail_id, status=OutboundMail.Status.QUEUED)
    if not early:
        due = due.filter(next_attempt_at__lte=now)
    claimed = due.update(
        status=OutboundMail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    mail = OutboundMail.objects.get(id=mail_id)
    try:
        _send(mail, now)
    except Exception as exc:
        return _record_failure(mail, exc, now)
    OutboundMail.objects.filter(id=mail_id, status=OutboundMail.Status.SENDING).update(
        status=OutboundMail.Status.SENT, sent_at=now, last_error=""
    )
    return "sent"


def _send(mail: OutboundMail, now: datetime) -> None:
    headers = {**mail.headers, "Date": format_datetime(now)}
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.text,
        from_email=mail.from_email,
        to=list(mail.to),
        cc=list(mail.cc),
        headers=headers,
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    for item in mail.attachments:
        with default_storage.open(item["file"], "rb") as stored:
            message.attach(item["filename"], stored.read(), item.get("content_type"))
    options: dict[str, Any] = {"fail_silently": False}
    if getattr(settings, "EMAIL_TIMEOUT", None) is None:
        # A relay that never answers must not hold the claim past its lease.
        options["timeout"] = SEND_TIMEOUT_SECONDS
    with get_connection(**options) as connection:
        sent = connection.send_messages([message])
    if sent == 0:
        raise RuntimeError("the email backend accepted no message")


def is_permanent_failure(exc: BaseException) -> bool:
    """An SMTP 5xx answer: sending the same mail again would get the same answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def _record_failure(mail: OutboundMail, exc: Exception, now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    sending = OutboundMail.objects.filter(id=mail.pk, status=OutboundMail.Status.SENDING)
    if is_permanent_failure(exc) or mail.attempts >= settings.SUPPORTDESK_MAIL_MAX_ATTEMPTS:
        sending.update(status=OutboundMail.Status.FAILED, last_error=error)
        logger.error("outbound mail %s to %s failed for good: %s", mail.pk, mail.recipient, error)
        return "failed"
    next_attempt = now + retry_delay(mail.attempts)
    sending.update(
        status=OutboundMail.Status.QUEUED, next_attempt_at=next_attempt, last_error=error
    )
    logger.warning(
        "outbound mail %s to %s not sent (attempt %s), retrying at %s: %s",
        mail.pk,
        mail.recipient,
        mail.attempts,
        next_attempt.isoformat(),
        error,
    )
    schedule_delivery(mail.pk, run_after=next_attempt)
    return "retry"


def reclaim_stale(*, now: datetime) -> int:
    """Put rows left in "sending" by a dead worker back in the queue; how many."""
    return OutboundMail.objects.filter(
        status=OutboundMail.Status.SENDING, claimed_at__lt=now - SENDING_LEASE
    ).update(status=OutboundMail.Status.QUEUED, next_attempt_at=F("claimed_at"))


def requeue_failed(ids: Sequence[int] = (), *, now: datetime | None = None) -> int:
    """Put mail that failed for good back in the queue, due now, with its attempts
    counted afresh (after the relay or the address was fixed); only these ids when
    given. A conditional UPDATE: a row someone else requeued or sent meanwhile is left
    alone. Returns how many were requeued."""
    now = now or clock.now()
    failed = OutboundMail.objects.filter(status=OutboundMail.Status.FAILED)
    if ids:
        failed = failed.filter(id__in=list(ids))
    return failed.update(status=OutboundMail.Status.QUEUED, attempts=0, next_attempt_at=now)


def deliver_due(
    *,
    now: datetime | None = None,
    early: bool = False,
    older_than: timedelta | None = None,
    limit: int = FLUSH_BATCH,
) -> Counter[str]:
    """Deliver queued mail from the table: what is due (everything when `early`).

    `older_than` only takes rows due at least that long ago (whose task should have
    run already). Returns how many were sent / retried / failed / skipped.
    """
    now = now or clock.now()
    rows = OutboundMail.objects.filter(status=OutboundMail.Status.QUEUED)
    if not early:
        rows = rows.filter(next_attempt_at__lte=now - (older_than or timedelta(0)))
    ids = list(rows.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    outcomes: Counter[str] = Counter()
    for mail_id in ids:
        outcomes[deliver(mail_id, now=now, early=early)] += 1
    return outcomes


def flush(*, now: datetime | None = None) -> Counter[str]:
    """The periodic safety net: reclaim dead workers' rows, send mail whose task was lost."""
    now = now or clock.now()
    outcomes = Counter({"reclaimed": reclaim_stale(now=now)})
    outcomes.update(deliver_due(now=now, older_than=FLUSH_GRACE))
    return outcomes


def flush_forever(*, stop: threading.Event, interval: float = 60.0) -> None:
    """Run `flush` every `interval` seconds until `stop` is set (a thread of `serve`).

    Errors are logged and the loop goes on: the next round retries.
    """
    from django.db import close_old_connections

    while not stop.wait(interval):
        try:
            close_old_connections()
            flush()
        except Exception:
            logger.exception("flushing the outgoing mail queue failed")
        finally:
            close_old_connections()
