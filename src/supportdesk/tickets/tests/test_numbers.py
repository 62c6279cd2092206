"""Ticket numbers stay unique when several threads (connections) open tickets at once."""

import threading

import pytest
from django.db import connection, connections

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets.models import Ticket, TicketSequence

THREADS = 4
PER_THREAD = 15


def _open_many(errors: list[BaseException]) -> None:
    try:
        for i in range(PER_THREAD):
            receive(InboundRequest(channel="email", sender_email="ana@acme.example", subject=f"#{i}"))
    except BaseException as exc:  # report in the main thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_get_unique_gap_free_numbers():
    make_customer()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_open_many, args=(errors,)) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS * PER_THREAD
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


@pytest.mark.django_db(transaction=True)
def test_numbering_restarts_after_the_highest_ticket_when_the_counter_row_is_gone():
    make_customer()
    first = receive(InboundRequest(channel="email", sender_email="ana@acme.example", subject="a")).ticket
    TicketSequence.objects.all().delete()
    second = receive(InboundRequest(channel="email", sender_email="ana@acme.example", subject="b")).ticket
    assert second.number == first.number + 1
    assert connection.vendor in ("sqlite", "postgresql")
