import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection

from supportdesk.accounts.models import User
from supportdesk.sla.models import Notice, Notification, WorkerBeat
from supportdesk.sla.sweep import sweep
from supportdesk.sla.tests.shared import MONDAY_9_BRT, make_agent, make_customer, portal_ticket

TICKETS = 30
WORKERS = 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_each_moment_once_and_notify_once():
    make_customer()
    make_agent("sam@desk.example")
    make_agent("rui@desk.example")
    with time_machine.travel(MONDAY_9_BRT, tick=False):
        tickets = [portal_ticket("high", subject=f"down {n}") for n in range(TICKETS)]
    now = MONDAY_9_BRT + timedelta(minutes=23)  # every ticket's warning moment has come
    start = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker() -> None:
        try:
            start.wait()
            results.append(sweep(now=now, batch=4))  # small batches: the workers interleave
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(result.claimed for result in results) == TICKETS
    assert sum(result.warnings for result in results) == TICKETS
    assert Notice.objects.filter(kind="warning").count() == TICKETS
    # Sam and Rui, once per ticket each.
    per_ticket = Notification.objects.values_list("ticket_id", "recipient__email")
    assert sorted(per_ticket) == sorted(
        (ticket.pk, email) for ticket in tickets for email in ("rui@desk.example", "sam@desk.example")
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_sweeps_runs_the_mail_tasks_and_reports(capsys):
    make_customer()
    make_agent("sam@desk.example")
    make_agent("sue@desk.example", role=User.Role.SUPERVISOR)
    with time_machine.travel(MONDAY_9_BRT, tick=False) as traveller:
        ticket = portal_ticket("high")
        traveller.shift(timedelta(hours=1))
        call_command("worker", "--once", "--worker-id", "w1")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["claimed"], summary["warnings"], summary["breaches"]) == (2, 0, 1)
    assert summary["lag_seconds"] == 37.5 * 60  # the warning moment, 22 min 30 s in
    assert summary["tasks_run"] >= 2  # the two breach mails
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("SLA breach")) == [
        "sam@desk.example", "sue@desk.example",
    ]
    assert f"#{ticket.number}" in mail.outbox[-1].subject
    beat = WorkerBeat.objects.get(worker_id="w1")
    assert beat.last_sweep_at == MONDAY_9_BRT + timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_the_worker_polls_the_mailbox_only_when_one_is_configured(settings):
    from django_tasks_db.models import DBTaskResult

    def fetches() -> int:
        return DBTaskResult.objects.filter(task_path__endswith="fetch_mail_task").count()

    settings.SUPPORTDESK_IMAP_HOST = ""
    call_command("worker", "--once", "--worker-id", "no-mailbox")
    assert fetches() == 0

    # Port 9 on loopback refuses at once: the fetch runs and fails, the worker carries on.
    settings.SUPPORTDESK_IMAP_HOST = "127.0.0.1"
    settings.SUPPORTDESK_IMAP_PORT = 9
    settings.SUPPORTDESK_IMAP_USER = "support"
    settings.SUPPORTDESK_IMAP_PASSWORD = "secret"
    call_command("worker", "--once", "--worker-id", "with-mailbox")
    assert fetches() == 1
