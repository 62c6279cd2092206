import pytest
import time_machine
from django.core import mail
from django.db import transaction

from supportdesk.accounts.testing import make_agent, make_customer
from supportdesk.outbound import queue
from supportdesk.outbound.headers import is_our_own_mail
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.selectors import ticket_for_message_ids
from supportdesk.outbound.services import send_acknowledgement, send_public_reply
from supportdesk.outbound.tests.conftest import MONDAY_9_BRT
from supportdesk.tickets import actions


def deliver_all():
    for mail_id in OutboundMail.objects.filter(status="queued").values_list("id", flat=True):
        queue.deliver(mail_id, early=True)


@pytest.mark.django_db(transaction=True)
def test_a_specialists_reply_is_mailed_to_the_requester_in_the_thread(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent(name="Sam Souza")
    with time_machine.travel(MONDAY_9_BRT, tick=False):
        with transaction.atomic():
            ticket = open_email_ticket()
            ack = send_acknowledgement(
                ticket, to="ana@acme.example", in_reply_to="<CAF-1@mail.acme.example>"
            )
        actions.add_public_reply(ticket=ticket, author=sam, body_text="Unplug it, please.")
        deliver_all()
    assert len(mail.outbox) == 2
    reply = mail.outbox[1].message()
    assert reply["To"] == "ana@acme.example"
    assert reply["Subject"] == f"Re: [#{ticket.number}] Printer on fire"
    assert reply["From"] == "Sam Souza <support@supportdesk.localhost>"
    assert reply["In-Reply-To"] == "<caf-1@mail.acme.example>"
    # Every id of the thread, the message answered (its parent) last.
    assert reply["References"].split() == [ack.message_id, "<caf-1@mail.acme.example>"]
    assert "Unplug it, please." in mail.outbox[1].body
    # A human wrote it: not marked automatic, so the customer's auto-responder may answer.
    assert reply["Auto-Submitted"] is None
    assert is_our_own_mail(reply)
    # The customer's answer to it threads back to the ticket.
    assert ticket_for_message_ids([reply["Message-ID"]]) == ticket.pk


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_reply_is_not_mailed(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.add_public_reply(ticket=ticket, author=sam, body_text="Unplug it.")
        raise RuntimeError("the request failed after the reply")
    assert not OutboundMail.objects.filter(kind="reply").exists()


@pytest.mark.django_db(transaction=True)
def test_internal_notes_are_never_mailed(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    actions.add_internal_note(ticket=ticket, author=sam, body_text="Customer is grumpy")
    assert not OutboundMail.objects.exists()


@pytest.mark.django_db
def test_a_reply_is_queued_once_however_often_it_is_sent(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    message = actions.add_public_reply(ticket=ticket, author=sam, body_text="Unplug it.")
    assert send_public_reply(message) is not None
    assert send_public_reply(message) is None
    assert OutboundMail.objects.filter(kind="reply").count() == 1


@pytest.mark.django_db
def test_a_reply_follows_the_language_of_the_acknowledgement(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    send_acknowledgement(ticket, to="ana@acme.example", language="pt-br")
    message = actions.add_public_reply(ticket=ticket, author=sam, body_text="Desligue da tomada.")
    queued = send_public_reply(message)
    assert queued.language == "pt-br"
    assert f"Chamado #{ticket.number}." in queued.text


@pytest.mark.django_db
def test_a_reply_uses_the_message_id_the_reply_was_recorded_with(open_email_ticket):
    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    message = actions.add_public_reply(
        ticket=ticket,
        author=sam,
        body_text="Unplug it.",
        message_id="<sd.reply-7@supportdesk.localhost>",
    )
    assert send_public_reply(message).message_id == "<sd.reply-7@supportdesk.localhost>"


@pytest.mark.django_db
def test_a_reply_on_a_ticket_without_an_address_is_not_mailed():
    make_customer(
        plan="gold",
        contacts=(("ana@acme.example", "Ana", True),),
        phones={"ana@acme.example": "+551130000000"},
    )
    sam = make_agent()
    ticket = actions.open_ticket(
        channel="hotline", queue="customer", subject="Down", requested_severity="high", actor=sam
    )
    message = actions.add_public_reply(ticket=ticket, author=sam, body_text="Fixed")
    assert send_public_reply(message) is None


@pytest.mark.django_db
def test_a_reply_carries_its_html_and_attachments(open_email_ticket):
    from supportdesk.tickets.attachments import NewAttachment

    make_customer(plan="gold")
    sam = make_agent()
    ticket = open_email_ticket()
    message = actions.add_public_reply(
        ticket=ticket,
        author=sam,
        body_text="See the log.",
        body_html="<p>See the <b>log</b>.<script>alert(1)</script></p>",
        attachments=[NewAttachment("../../etc/server.log", b"line 1\n", "text/plain")],
    )
    queued = send_public_reply(message)
    queue.deliver(queued.pk)
    sent = mail.outbox[0]
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html"
    assert "<b>log</b>" in html and "<script>" not in html
    assert sent.attachments[0][0] == "server.log"
    assert sent.attachments[0][1] in (b"line 1\n", "line 1\n")
