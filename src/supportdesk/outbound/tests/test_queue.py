import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from supportdesk.outbound import queue
from supportdesk.outbound.headers import is_our_own_mail
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.tests.backends import FlakyBackend

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "supportdesk.outbound.tests.backends.FlakyBackend"
    FlakyBackend.failures_left = 0
    FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    yield FlakyBackend
    FlakyBackend.failures_left = 0


def queue_one(**overrides):
    fields = {
        "kind": OutboundMail.Kind.NOTIFICATION,
        "to": ["Ana <ana@acme.example>"],
        "subject": "Your password",
        "text": "Hello Ana",
        "headers": {"Auto-Submitted": "auto-generated"},
    }
    return queue.enqueue_mail(**{**fields, **overrides})


def mail_tasks():
    return DBTaskResult.objects.filter(queue_name="mail")


def run_mail_worker():
    """The real django-tasks database worker, in batch mode: runs what is ready, then exits."""
    call_command(
        "db_worker", queue_name="mail", batch=True, startup_delay=False, interval=0, verbosity=0
    )


@pytest.mark.django_db(transaction=True)
def test_it_sends_nothing_for_a_rolled_back_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_one()
        raise RuntimeError("the ticket could not be opened")
    assert OutboundMail.objects.count() == 0
    assert mail_tasks().count() == 0
    run_mail_worker()
    assert mail.outbox == []


def seen_by_another_connection():
    """(mail rows, mail tasks) as a worker in another connection sees them right now."""
    seen = []

    def look():
        from django.db import connection

        try:
            seen.append((OutboundMail.objects.count(), mail_tasks().count()))
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_it_delivers_committed_mail_through_the_worker():
    with transaction.atomic():
        queued = queue_one()
        # Workers see neither the mail nor its task before the commit.
        assert seen_by_another_connection() == (0, 0)
    assert seen_by_another_connection() == (1, 1)
    run_mail_worker()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Ana <ana@acme.example>"]
    assert sent.extra_headers["Message-ID"] == queued.message_id
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.SENT
    assert queued.attempts == 1


@pytest.mark.django_db
def test_with_another_task_backend_it_delivers_on_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "mail", "sla"],
        }
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = queue_one()
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.SENT


@pytest.mark.django_db
def test_it_records_the_message_id_and_marks_the_mail_as_ours():
    queued = queue_one()
    queue.deliver(queued.pk)
    message = mail.outbox[0].message()
    assert message["Message-ID"] == queued.message_id
    assert queued.message_id.startswith("<sd.") and queued.message_id.endswith(
        "@supportdesk.localhost>"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert is_our_own_mail(message)


@pytest.mark.django_db
def test_it_keeps_a_given_message_id():
    queued = queue_one(headers={"Message-ID": "<Reply-1@Example.com>"})
    assert queued.message_id == "<reply-1@example.com>"


@pytest.mark.django_db
def test_it_sends_a_mail_once_even_when_delivered_twice():
    queued = queue_one()
    assert queue.deliver(queued.pk) == "sent"
    assert queue.deliver(queued.pk) == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_workers_race_for_the_same_mail():
    queued = queue_one()
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            outcomes.append(queue.deliver(queued.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_retries_a_failed_send_with_backoff(flaky):
    flaky.failures_left = 2
    with time_machine.travel(START, tick=False):
        queued = queue_one()
        assert queue.deliver(queued.pk) == "retry"
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.QUEUED
    assert queued.attempts == 1
    assert queued.next_attempt_at == START + timedelta(minutes=1)
    assert "Connection unexpectedly closed" in queued.last_error
    # The first task (scheduled with the mail) ran; the retry has its own, deferred.
    assert mail_tasks().filter(run_after=START + timedelta(minutes=1)).count() == 1

    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        assert queue.deliver(queued.pk) == "skipped"  # not due yet
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert queue.deliver(queued.pk) == "retry"
    queued.refresh_from_db()
    assert queued.next_attempt_at == START + timedelta(minutes=3)
    with time_machine.travel(START + timedelta(minutes=3), tick=False):
        assert queue.deliver(queued.pk) == "sent"
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.SENT
    assert queued.attempts == 3
    assert queued.sent_at == START + timedelta(minutes=3)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_gives_up_after_the_last_allowed_attempt(flaky, settings):
    settings.SUPPORTDESK_MAIL_MAX_ATTEMPTS = 2
    flaky.failures_left = 5
    with time_machine.travel(START, tick=False):
        queued = queue_one()
        assert queue.deliver(queued.pk) == "retry"
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert queue.deliver(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.FAILED
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_does_not_retry_a_permanent_refusal(flaky):
    flaky.failures_left = 1
    flaky.error = smtplib.SMTPRecipientsRefused({"ana@acme.example": (550, b"5.1.1 no such user")})
    queued = queue_one()
    assert queue.deliver(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.FAILED
    assert "no such user" in queued.last_error


def test_backoff_doubles_up_to_an_hour():
    delays = [queue.retry_delay(n) for n in range(1, 10)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(delays) == timedelta(hours=1)


@pytest.mark.django_db
def test_flush_sends_mail_whose_task_was_lost():
    with time_machine.travel(START, tick=False):
        queued = queue_one()
    DBTaskResult.objects.all().delete()  # the task table lost it (or we crashed before enqueueing)
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        assert queue.flush()["sent"] == 0  # its task may still be on its way
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        assert queue.flush()["sent"] == 1
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.SENT


@pytest.mark.django_db
def test_flush_resends_mail_left_sending_by_a_dead_worker():
    with time_machine.travel(START, tick=False):
        queued = queue_one()
        OutboundMail.objects.filter(pk=queued.pk).update(
            status=OutboundMail.Status.SENDING, claimed_at=START, attempts=1
        )
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        assert queue.flush()["reclaimed"] == 0  # the worker may still be sending
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        outcome = queue.flush()
    assert outcome["reclaimed"] == 1
    assert outcome["sent"] == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_refuses_a_mail_without_recipients():
    with pytest.raises(ValueError, match="recipient"):
        queue_one(to=[""])


@pytest.mark.django_db
def test_it_keeps_subjects_on_one_line():
    queued = queue_one(subject="Hello\r\nBcc: victim@example.com")
    assert queued.subject == "Hello Bcc: victim@example.com"


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_mails_gets_one_delivery_task_and_all_are_sent():
    with transaction.atomic(), queue.batched_delivery():
        queued = [queue_one(to=[f"person{i}@acme.example"]) for i in range(3)]
        with pytest.raises(RuntimeError), transaction.atomic():  # one mail's savepoint fails
            queue_one(to=["gone@acme.example"])
            raise RuntimeError("this ticket could not be opened")
        assert seen_by_another_connection() == (0, 0)
    assert seen_by_another_connection() == (3, 1)
    run_mail_worker()
    assert sorted(m.to[0] for m in mail.outbox) == [f"person{i}@acme.example" for i in range(3)]
    assert {m.status for m in OutboundMail.objects.filter(pk__in=[q.pk for q in queued])} == {
        OutboundMail.Status.SENT
    }


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_batch_leaves_neither_mail_nor_task():
    with pytest.raises(RuntimeError), transaction.atomic(), queue.batched_delivery():
        queue_one()
        queue_one(to=["bea@acme.example"])
        raise RuntimeError("the batch failed")
    assert OutboundMail.objects.count() == 0
    assert mail_tasks().count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_batch_outside_a_transaction_schedules_each_mail():
    with queue.batched_delivery():
        queue_one()
        queue_one(to=["bea@acme.example"])
    assert seen_by_another_connection() == (2, 2)
    run_mail_worker()
    assert len(mail.outbox) == 2
