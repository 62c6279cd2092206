import pytest
from django.core import mail

from supportdesk.accounts.testing import make_customer
from supportdesk.outbound import queue
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.services import send_notification

pytestmark = pytest.mark.django_db


def test_it_sends_a_notification_marked_auto_generated():
    queued = send_notification(
        "sam@desk.example",
        "Reset your password",
        "outbound/notification",
        {"body": "Open this link: https://desk.example/reset/abc"},
        kind=OutboundMail.Kind.PASSWORD_RESET,
    )
    queue.deliver(queued.pk)
    sent = mail.outbox[0]
    assert sent.subject == "Reset your password"
    assert "https://desk.example/reset/abc" in sent.body
    assert "This is an automatic message." in sent.body
    message = sent.message()
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == queued.message_id
    assert queued.kind == "password_reset"


def test_a_ticket_notification_carries_the_ticket_tag(open_email_ticket):
    make_customer(plan="gold")
    ticket = open_email_ticket()
    queued = send_notification(
        ["sam@desk.example"],
        "First response due soon",
        "outbound/notification",
        {"body": "Hurry"},
        ticket=ticket,
    )
    assert queued.subject == f"[#{ticket.number}] First response due soon"
    assert queued.ticket == ticket


def test_it_renders_in_the_recipients_language():
    queued = send_notification(
        "ana@acme.example", "Convite", "outbound/notification", {"body": "Olá"}, language="pt-BR"
    )
    assert "Esta é uma mensagem automática." in queued.text


def test_it_never_notifies_addresses_nobody_reads():
    assert (
        send_notification("noreply@acme.example", "x", "outbound/notification", {"body": ""})
        is None
    )
    queued = send_notification(
        ["noreply@acme.example", "sam@desk.example"], "x", "outbound/notification", {"body": ""}
    )
    assert queued.to == ["sam@desk.example"]


def test_a_password_reset_reaches_a_login_at_a_role_address():
    queued = send_notification(
        "postmaster@acme.example",
        "Reset",
        "outbound/notification",
        {"body": "link"},
        kind=OutboundMail.Kind.PASSWORD_RESET,
    )
    assert queued is not None
    assert (
        send_notification(
            "support@supportdesk.localhost",
            "Reset",
            "outbound/notification",
            {"body": "link"},
            kind=OutboundMail.Kind.PASSWORD_RESET,
        )
        is None
    )
