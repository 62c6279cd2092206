"""Processing failed inbound mail again: `requeue-mail` and `requeue.requeue_mail`."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.requeue import requeue_mail
from supportdesk.intake.email.store import RawMail, store_mail
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.tickets.models import Ticket

JSON_FIELDS = {"message_id", "action", "ticket", "account", "queue", "severity",
               "first_response_due", "reasons", "acknowledged", "inbound_id"}


@pytest.fixture
def acme():
    return make_customer(slug="acme", domains=["acme.example"], plan="gold",
                         contacts=[("ana@acme.example", "Ana", True)])


def failed_mail(raw: bytes, error: str = "OperationalError: database is locked") -> InboundMail:
    """A stored mail in the state a database failure leaves it (`process_mail` could not
    even file it for review): set directly, since failing the database on purpose would
    fail the test's own queries too."""
    row = store_mail(RawMail(raw=raw, route="smtp"))
    InboundMail.objects.filter(pk=row.pk).update(status=InboundMail.Status.FAILED, error=error)
    return row


def run(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("requeue-mail", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()], err.getvalue()


@pytest.mark.django_db
def test_it_turns_every_failed_mail_into_its_ticket_once(acme):
    first = failed_mail(make_mail(subject="Export is broken"))
    second = failed_mail(make_mail(sender="bob@gmail.com", subject="Hello"))
    done = ingest(make_mail(subject="Fine"))
    lines, err = run("--failed")
    assert err == ""
    assert [line["inbound_id"] for line in lines] == [first.pk, second.pk]  # not the processed one
    assert all(set(line) == JSON_FIELDS for line in lines)
    assert [(line["action"], line["queue"]) for line in lines] == [("created", "customer"), ("created", "unidentified")]
    assert lines[0]["account"] == "acme" and lines[0]["first_response_due"].endswith("Z")
    assert Ticket.objects.count() == 3
    for row in (first, second):
        row.refresh_from_db()
        assert (row.status, row.error) == ("processed", "")
    # again: nothing failed any more
    assert run("--failed") == ([], "")
    # by id: a processed mail reports what became of it, and makes no second ticket
    again, fine = run(str(first.pk), str(done.inbound_id))[0]
    assert (again["action"], again["ticket"]) == ("created", lines[0]["ticket"])
    assert (fine["action"], fine["ticket"]) == ("created", done.ticket)
    assert again["reasons"][-1] == fine["reasons"][-1] == "already processed"
    assert Ticket.objects.count() == 3


@pytest.mark.django_db
def test_it_processes_a_mail_left_stored(acme):
    stored = store_mail(RawMail(raw=make_mail(), route="smtp"))
    [line], _ = run(str(stored.pk))
    assert (line["inbound_id"], line["action"], line["account"]) == (stored.pk, "created", "acme")


@pytest.mark.django_db
def test_it_names_an_unknown_mail_on_stderr_and_exits_non_zero(acme):
    failed = failed_mail(make_mail())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 inbound mails were not processed"):
        call_command("requeue-mail", "999999", str(failed.pk), stdout=out, stderr=err)
    assert "no inbound mail 999999" in err.getvalue()
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["inbound_id"] == failed.pk and line["action"] == "created"


@pytest.mark.django_db
def test_it_wants_ids_or_failed():
    with pytest.raises(CommandError, match="--failed"):
        call_command("requeue-mail", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_the_status_goes_back_to_stored_only_from_failed(acme):
    outcome = ingest(make_mail())
    result = requeue_mail(mail_id=outcome.inbound_id, via="a test")
    assert not result.processed_here and result.outcome.ticket == outcome.ticket
    assert InboundMail.objects.get(pk=outcome.inbound_id).status == "processed"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_requeueing_the_same_failed_mail_at_once_make_one_ticket(acme):
    failed = failed_mail(make_mail(subject="Pressed twice"))
    barrier = threading.Barrier(2)
    results = []

    def press():
        from django.db import connection

        try:
            barrier.wait()
            results.append(requeue_mail(mail_id=failed.pk, via="a test"))
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert sorted(r.processed_here for r in results) == [False, True]
    assert {r.outcome.ticket for r in results} == {Ticket.objects.get().number}
    assert Ticket.objects.count() == 1
