from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from supportdesk.accounts.testing import make_customer
from supportdesk.outbound import queue
from supportdesk.outbound.headers import is_our_own_mail
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.selectors import ticket_for_message_ids
from supportdesk.outbound.services import Refusal, acknowledgement_refusal, send_acknowledgement
from supportdesk.outbound.tests.conftest import MONDAY_9_BRT

pytestmark = pytest.mark.django_db


def acknowledge(ticket, to="ana@acme.example", **kwargs):
    with time_machine.travel(MONDAY_9_BRT, tick=False):
        queued = send_acknowledgement(
            ticket, to=to, in_reply_to="<CAF-1@mail.acme.example>", **kwargs
        )
        assert queued is not None
        assert queue.deliver(queued.pk) == "sent"
    return mail.outbox[-1]


def test_it_promises_the_first_response_in_the_customers_words(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    sent = acknowledge(ticket)
    # Gold, Medium by email: 6 h on the 24x7 clock from Monday 09:00 BRT.
    assert f"opened ticket #{ticket.number}." in sent.body
    assert "Severity: Medium" in sent.body
    assert "You will get a first response by Mon 30 Nov, 15:00 BRT." in sent.body
    assert "asked to prefer the Desk Portal" in sent.body
    assert sent.subject == f"[#{ticket.number}] Printer on fire"


def test_its_headers_thread_it_and_mark_it_automatic(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    message = acknowledge(ticket).message()
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message["In-Reply-To"] == "<caf-1@mail.acme.example>"
    assert message["References"] == "<caf-1@mail.acme.example>"
    assert is_our_own_mail(message)
    # A reply to the acknowledgement finds the ticket by its Message-ID.
    assert ticket_for_message_ids([message["Message-ID"]]) == ticket.pk


def test_it_speaks_brazilian_portuguese_when_asked(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    sent = acknowledge(ticket, language="pt-BR")
    assert f"abrimos o chamado #{ticket.number}" in sent.body
    assert "Severidade: Média" in sent.body
    assert "primeira resposta até Seg, 30 de nov, 15:00 BRT." in sent.body
    assert OutboundMail.objects.get().language == "pt-br"


def test_it_explains_trial_terms_do_not_include_email(open_email_ticket):
    make_customer(plan="plus", status="trial")
    sent = acknowledge(open_email_ticket())
    assert "first response by" not in sent.body
    assert "During a trial, support follows the terms of Support Standard" in sent.body
    assert "Those terms include the Desk Portal." in sent.body


def test_it_names_the_channels_of_a_plan_without_email(open_email_ticket):
    make_customer(plan="standard")
    sent = acknowledge(open_email_ticket())
    assert "Your plan, Support Standard, does not include support by email" in sent.body
    assert "Your plan includes the Desk Portal." in sent.body


def test_it_explains_an_expired_account_gets_best_effort(open_email_ticket):
    make_customer(plan="gold", status="expired")
    sent = acknowledge(open_email_ticket())
    assert "subscription is expired" in sent.body
    assert "best-effort" in sent.body
    assert "prefer the Desk Portal" not in sent.body


def test_it_tells_an_unidentified_sender_there_is_no_sla(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket("someone@gmail.com")
    sent = acknowledge(ticket, to="someone@gmail.com")
    assert "could not match your address to a customer account" in sent.body
    assert "prefer the Desk Portal" not in sent.body


@pytest.mark.parametrize(
    "address",
    [
        "noreply@acme.example",
        "no-reply@acme.example",
        "No_Reply+x@acme.example",
        "do-not-reply@acme.example",
        "MAILER-DAEMON@acme.example",
        "postmaster@acme.example",
        "bounces+123@acme.example",
        "support@supportdesk.localhost",
        "not an address",
    ],
)
def test_it_never_acknowledges_to_addresses_nobody_reads(open_email_ticket, address):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    assert send_acknowledgement(ticket, to=address) is None
    assert OutboundMail.objects.count() == 0


def test_it_acknowledges_a_sender_at_most_five_times_a_day(open_email_ticket):
    make_customer(plan="gold")
    with time_machine.travel(MONDAY_9_BRT, tick=False):
        tickets = [open_email_ticket(message_id=f"<m{i}@acme.example>") for i in range(6)]
        sent = [send_acknowledgement(t, to="Ana@Acme.example") for t in tickets]
    assert all(sent[:5])
    assert sent[5] is None
    assert acknowledgement_refusal("ana@acme.example", now=MONDAY_9_BRT) == Refusal.DAILY_LIMIT
    later = MONDAY_9_BRT + timedelta(days=1, minutes=1)
    assert acknowledgement_refusal("ana@acme.example", now=later) is None


def test_the_daily_limit_is_a_setting(open_email_ticket, settings):
    settings.SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY = 1
    make_customer(plan="gold")
    first, second = open_email_ticket(), open_email_ticket(message_id="<other@acme.example>")
    assert send_acknowledgement(first, to="ana@acme.example") is not None
    assert send_acknowledgement(second, to="ana@acme.example") is None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_ticket_sends_no_acknowledgement(open_email_ticket):
    make_customer(plan="gold")
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket = open_email_ticket()
        send_acknowledgement(ticket, to="ana@acme.example")
        raise RuntimeError("storing the raw mail failed")
    assert OutboundMail.objects.count() == 0
    assert queue.flush(now=MONDAY_9_BRT + timedelta(hours=1))["sent"] == 0
    assert mail.outbox == []
