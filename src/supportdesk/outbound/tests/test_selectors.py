import pytest

from supportdesk.accounts.testing import make_customer
from supportdesk.outbound.selectors import is_message_id_ours, ticket_for_message_ids
from supportdesk.outbound.services import send_acknowledgement

pytestmark = pytest.mark.django_db


def test_it_threads_by_a_message_id_we_sent(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    ack = send_acknowledgement(ticket, to="ana@acme.example")
    assert ticket_for_message_ids([f"<unknown@x> {ack.message_id.upper()}"]) == ticket.pk
    assert is_message_id_ours(ack.message_id)


def test_it_threads_by_a_message_id_we_stored(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket(message_id="<caf-1@mail.acme.example>")
    assert ticket_for_message_ids(["<caf-1@mail.acme.example>"]) == ticket.pk


def test_the_most_recent_reference_wins(open_email_ticket):
    make_customer(plan="gold")
    first = open_email_ticket(message_id="<one@acme.example>")
    second = open_email_ticket(message_id="<two@acme.example>")
    assert ticket_for_message_ids(["<one@acme.example> <two@acme.example>"]) == second.pk
    assert ticket_for_message_ids(["<two@acme.example>", "<one@acme.example>"]) == first.pk


def test_unknown_ids_find_nothing():
    assert ticket_for_message_ids(["<nobody@nowhere>"]) is None
    assert ticket_for_message_ids([]) is None
    assert not is_message_id_ours("<nobody@nowhere>")
