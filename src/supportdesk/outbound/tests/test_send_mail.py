"""`supportdesk send-mail` against a real SMTP relay (aiosmtpd on a local port)."""

import json
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.outbound import queue
from supportdesk.outbound.models import OutboundMail

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Relay:
    """A mail relay that keeps what it accepts; some recipients are refused."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay(settings):
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    yield handler
    controller.stop()


def send_mail_command(*args):
    from io import StringIO

    out = StringIO()
    call_command("send-mail", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def queue_to(address):
    return queue.enqueue_mail(
        kind="notification",
        to=[address],
        subject="Hello",
        text="Body",
        headers={"Auto-Submitted": "auto-generated"},
    )


def test_it_delivers_queued_mail_over_smtp(relay):
    queued = queue_to("ana@acme.example")
    assert send_mail_command() == {
        "sent": 1,
        "retry": 0,
        "failed": 0,
        "skipped": 0,
        "still_queued": 0,
    }
    mail_from, rcpt_tos, content = relay.received[0]
    assert rcpt_tos == ["ana@acme.example"]
    message = message_from_bytes(content)
    assert message["Message-ID"] == queued.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Supportdesk-Loop"]


def test_a_refused_recipient_fails_for_good_and_the_command_says_so(relay):
    queued = queue_to("gone@acme.example")
    with pytest.raises(CommandError, match="could not be sent"):
        send_mail_command()
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.FAILED
    assert "no such user" in queued.last_error


def test_a_temporary_refusal_is_retried_later(relay):
    with time_machine.travel(START, tick=False):
        queued = queue_to("busy@acme.example")
        with pytest.raises(CommandError):
            send_mail_command()
    queued.refresh_from_db()
    assert queued.status == OutboundMail.Status.QUEUED
    assert queued.next_attempt_at == START + timedelta(minutes=1)
    # Not due yet: a plain run leaves it alone, --flush sends it now.
    with time_machine.travel(START + timedelta(seconds=10), tick=False):
        assert send_mail_command()["skipped"] + send_mail_command()["sent"] == 0
        OutboundMail.objects.filter(pk=queued.pk).update(to=["ana@acme.example"])
        result = send_mail_command("--flush")
    assert result["sent"] == 1
    assert len(relay.received) == 1


def test_it_reports_nothing_to_do():
    assert send_mail_command("--flush") == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "skipped": 0,
        "reclaimed": 0,
        "still_queued": 0,
    }


def test_mail_that_failed_for_good_is_sent_again_with_retry_failed(relay):
    refused = queue_to("gone@acme.example")
    other = queue_to("gone@globex.example")
    with pytest.raises(CommandError):
        send_mail_command()
    # The address was corrected; only that mail is given another chance.
    OutboundMail.objects.filter(pk=refused.pk).update(to=["ana@acme.example"])
    result = send_mail_command("--retry-failed", "--mail", str(refused.pk))
    assert (result["requeued"], result["sent"], result["failed"]) == (1, 1, 0)
    assert [rcpt for _, rcpt, _ in relay.received] == [["ana@acme.example"]]
    refused.refresh_from_db()
    other.refresh_from_db()
    assert (refused.status, other.status) == (OutboundMail.Status.SENT, OutboundMail.Status.FAILED)


def test_mail_ids_without_retry_failed_are_refused():
    with pytest.raises(CommandError, match="--mail only goes with --retry-failed"):
        send_mail_command("--mail", "1")
