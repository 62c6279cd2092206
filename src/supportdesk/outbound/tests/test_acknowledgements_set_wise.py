"""`send_acknowledgements`: a batch of acknowledgements queued at once, as one at a time."""

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction

from supportdesk.accounts.testing import make_customer
from supportdesk.outbound import queue
from supportdesk.outbound.headers import is_our_own_mail, loop_header_value
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.services import (
    Acknowledgement,
    send_acknowledgement,
    send_acknowledgements,
)
from supportdesk.outbound.tests.conftest import MONDAY_9_BRT

pytestmark = pytest.mark.django_db


def stored_rows():
    """Every queue row as the database holds it, column by column, with what must differ
    between two runs (the row id, the random Message-ID and its loop signature) blanked."""
    table = connection.ops.quote_name(OutboundMail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [column[0] for column in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in found:
        message_id = row.pop("message_id")
        row.pop("id")
        headers = row["headers"] if isinstance(row["headers"], str) else json.dumps(row["headers"])
        assert is_our_own_mail(json.loads(headers))
        row["headers"] = headers.replace(loop_header_value(message_id), "LOOP").replace(
            message_id, "MESSAGE-ID"
        )
    return found


def test_a_batch_queues_byte_for_byte_the_mails_of_one_at_a_time(open_email_ticket):
    make_customer(plan="gold")
    tickets = [
        open_email_ticket(message_id=f"<m{i}@acme.example>", subject=f"Printer {i}")
        for i in range(4)
    ]
    stranger = open_email_ticket("joe@gmail.com", name="", message_id="<j@gmail.com>")
    acknowledgements = [
        Acknowledgement(tickets[0], to="Ana <ana@acme.example>", in_reply_to="<M0@acme.example>"),
        Acknowledgement(tickets[1], to="ana@acme.example", in_reply_to="<m1@acme.example>",
                        references=["<older@acme.example>", "<m1@acme.example>"]),
        Acknowledgement(tickets[2], to="noreply@acme.example"),
        Acknowledgement(tickets[3], to="ana@acme.example", language="pt-BR"),
        Acknowledgement(stranger, to="joe@gmail.com", in_reply_to="<j@gmail.com>"),
    ]
    with transaction.atomic():
        one_at_a_time = [
            send_acknowledgement(
                a.ticket, to=a.to, in_reply_to=a.in_reply_to, references=a.references,
                language=a.language, now=MONDAY_9_BRT,
            )
            for a in acknowledgements
        ]
        expected = stored_rows()
        transaction.set_rollback(True)

    queued = send_acknowledgements(acknowledgements, now=MONDAY_9_BRT)

    assert [q is None for q in queued] == [q is None for q in one_at_a_time]
    assert [q is None for q in queued] == [False, False, True, False, False]
    assert stored_rows() == expected
    assert [q.pk for q in queued if q] == list(OutboundMail.objects.values_list("id", flat=True))
    assert [q.ticket for q in queued if q] == [tickets[0], tickets[1], tickets[3], stranger]


def test_a_batch_from_one_sender_gets_no_more_acknowledgements_than_the_daily_limit(
    open_email_ticket, settings
):
    settings.SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY = 5
    make_customer(plan="gold")
    tickets = [open_email_ticket(message_id=f"<m{i}@acme.example>") for i in range(7)]
    queued = send_acknowledgements(
        [Acknowledgement(t, to="ana@acme.example") for t in tickets], now=MONDAY_9_BRT
    )
    assert [q is not None for q in queued] == [True] * 5 + [False] * 2
    assert OutboundMail.objects.filter(recipient="ana@acme.example").count() == 5


def test_a_batch_counts_what_the_sender_got_earlier_that_day(open_email_ticket, settings):
    settings.SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY = 3
    make_customer(plan="gold", contacts=[("ana@acme.example", "Ana", True), ("bia@acme.example", "Bia", False)])
    tickets = [open_email_ticket(message_id=f"<m{i}@acme.example>") for i in range(8)]
    yesterday = MONDAY_9_BRT - timedelta(days=1, minutes=1)
    send_acknowledgement(tickets[0], to="ana@acme.example", now=yesterday)  # outside the 24 h
    send_acknowledgement(tickets[1], to="Ana@Acme.example", now=MONDAY_9_BRT - timedelta(hours=2))
    queued = send_acknowledgements(
        [
            Acknowledgement(tickets[2], to="ana@acme.example"),
            Acknowledgement(tickets[3], to="bia@acme.example"),
            Acknowledgement(tickets[4], to="Ana <ANA@acme.example>"),
            Acknowledgement(tickets[5], to="ana@acme.example"),
            Acknowledgement(tickets[6], to="bia@acme.example"),
        ],
        now=MONDAY_9_BRT,
    )
    assert [q is not None for q in queued] == [True, True, True, False, True]
    assert send_acknowledgement(tickets[7], to="bia@acme.example", now=MONDAY_9_BRT) is not None
    assert send_acknowledgement(tickets[7], to="bia@acme.example", now=MONDAY_9_BRT) is None


def test_a_limit_of_zero_acknowledges_nobody(open_email_ticket, settings):
    settings.SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY = 0
    make_customer(plan="gold")
    ticket = open_email_ticket()
    assert send_acknowledgements([Acknowledgement(ticket, to="ana@acme.example")]) == [None]
    assert OutboundMail.objects.count() == 0


def test_a_batch_inside_batched_delivery_is_delivered_by_one_task(open_email_ticket):
    from django_tasks_db.models import DBTaskResult

    make_customer(plan="gold", contacts=[("ana@acme.example", "Ana", True), ("bia@acme.example", "Bia", False)])
    tickets = [open_email_ticket(message_id=f"<m{i}@acme.example>") for i in range(2)]
    with transaction.atomic(), queue.batched_delivery():
        send_acknowledgements(
            [Acknowledgement(tickets[0], to="ana@acme.example"),
             Acknowledgement(tickets[1], to="bia@acme.example")],
            now=MONDAY_9_BRT,
        )
    assert DBTaskResult.objects.filter(queue_name="mail").count() == 1
    assert queue.deliver_due(now=MONDAY_9_BRT, early=True)["sent"] == 2


def test_an_empty_batch_queues_nothing():
    assert send_acknowledgements([]) == []
    assert OutboundMail.objects.count() == 0


def test_a_batch_in_two_languages_gives_each_mail_its_own(open_email_ticket):
    make_customer(plan="gold")
    tickets = [open_email_ticket(message_id=f"<m{i}@acme.example>") for i in range(4)]
    languages = ["en", "pt-BR", None, "pt"]
    queued = send_acknowledgements(
        [Acknowledgement(t, to="ana@acme.example", language=lang)
         for t, lang in zip(tickets, languages, strict=True)],
        now=MONDAY_9_BRT,
    )
    assert [q.language for q in queued] == ["en", "pt-br", "en", "pt-br"]
    english, portuguese = "first response by Mon 30 Nov", "primeira resposta até Seg, 30 de nov"
    assert [english in q.text for q in queued] == [True, False, True, False]
    assert [portuguese in q.text for q in queued] == [False, True, False, True]
    # Outside a batch, the language active before is back.
    assert send_acknowledgement(tickets[0], to="bia@acme.example", now=MONDAY_9_BRT).language == "en"
