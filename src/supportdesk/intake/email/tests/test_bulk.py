"""The bulk path's set-wise writes give what one mail at a time gives."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.test import override_settings

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.bulk import process_stored
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.process import process_mail
from supportdesk.intake.email.store import RawMail, store_mails
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.outbound.models import OutboundMail

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture
def acme():
    return make_customer(
        slug="acme", domains=["acme.example"], plan="gold",
        contacts=[("ana@acme.example", "Ana", True), ("bia@acme.example", "Bia", False)],
    )


def acknowledgements():
    """Each queued acknowledgement, all but its own Message-ID (random) and row id."""
    return [
        (m.recipient, m.ticket.number, m.subject, m.text, m.language, m.to, m.from_email,
         [(k, v) for k, v in m.headers.items() if k not in ("Message-ID", "X-Supportdesk-Loop")])
        for m in OutboundMail.objects.order_by("id")
    ]


def one_by_one_then_bulk(batch: list[bytes]) -> tuple[list[dict], list, list[dict], list]:
    """The outcomes and acknowledgements of the stored batch processed one mail at a time
    (then rolled back), and those of the bulk path."""
    store_mails([RawMail(raw=raw, route="maildir") for raw in batch])
    with transaction.atomic():
        one_by_one = [process_mail(row).as_json() for row in InboundMail.objects.order_by("id")
                      if row.status == InboundMail.Status.STORED]
        acknowledged_one_by_one = acknowledgements()
        transaction.set_rollback(True)
    outcomes = []
    process_stored(on_outcome=outcomes.append, parallel=False)
    return one_by_one, acknowledged_one_by_one, [o.as_json() for o in outcomes], acknowledgements()


@override_settings(SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY=5)
def test_seven_new_mails_from_one_sender_in_one_batch_get_five_acknowledgements(acme, time_machine):
    time_machine.move_to(NOW, tick=False)
    batch = [make_mail(subject=f"Problem {i}") for i in range(7)]
    one_by_one, acknowledged_one_by_one, outcomes, acknowledged = one_by_one_then_bulk(batch)
    assert [o["action"] for o in outcomes] == ["created"] * 7
    assert [o["acknowledged"] for o in outcomes] == [True] * 5 + [False] * 2
    assert len(acknowledged) == 5
    assert outcomes == one_by_one
    assert acknowledged == acknowledged_one_by_one


@override_settings(SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY=2)
def test_a_batch_counts_acknowledgements_of_earlier_batches_and_of_replies_in_between(acme, time_machine):
    time_machine.move_to(NOW, tick=False)
    earlier = ingest(make_mail(subject="Earlier problem"))
    batch = [
        make_mail(subject="New one"),
        make_mail(sender="x@gmail.com", subject="Hi"),
        make_mail(subject=f"Re: [#{earlier.ticket}] Earlier problem"),  # a reply: no acknowledgement
        make_mail(subject="Another one"),
        make_mail(sender="Bia <bia@acme.example>", subject="Mine"),
        make_mail(sender="x@gmail.com", subject="Hi again"),
        make_mail(sender="x@gmail.com", subject="And again"),
    ]
    one_by_one, acknowledged_one_by_one, outcomes, acknowledged = one_by_one_then_bulk(batch)
    assert [(o["action"], o["acknowledged"]) for o in outcomes] == [
        ("created", True), ("created", True), ("appended", False), ("created", False),
        ("created", True), ("created", True), ("created", False),
    ]
    assert outcomes == one_by_one
    assert acknowledged == acknowledged_one_by_one
    assert [a[0] for a in acknowledged] == [
        "ana@acme.example", "ana@acme.example", "x@gmail.com", "bia@acme.example", "x@gmail.com",
    ]
