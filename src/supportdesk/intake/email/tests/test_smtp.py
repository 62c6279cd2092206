"""The SMTP listener: the plain handling function, then a real SMTP conversation."""

from __future__ import annotations

import smtplib
import socket

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.smtp import accept_message, start_listener
from supportdesk.intake.email.tests.helpers import make_mail
from supportdesk.tickets.models import Ticket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db
def test_it_stores_the_message_before_answering_250():
    raw = make_mail()
    reply = accept_message(raw, mail_from="ana@acme.example", rcpt_tos=["support@x"])
    assert reply.startswith("250 ")
    row = InboundMail.objects.get()
    assert bytes(row.raw) == raw and row.status == "stored"
    assert row.envelope_sender == "ana@acme.example" and row.envelope_recipients == ["support@x"]


@pytest.mark.django_db
def test_it_refuses_a_message_over_the_size_limit():
    reply = accept_message(b"x" * 2000, mail_from="a@b", rcpt_tos=["s@x"], max_bytes=1024)
    assert reply.startswith("552 5.3.4")
    assert InboundMail.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_bare_line_feeds():
    raw = make_mail().replace(b"\r\n\r\n", b"\r\n\n.\nMAIL FROM:<x@y>\r\n\r\n", 1)
    assert accept_message(raw, mail_from="a@b", rcpt_tos=["s@x"]).startswith("550 5.6.11")
    assert InboundMail.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_bare_carriage_return_and_accepts_clean_crlf():
    bare_cr = make_mail().replace(b"\r\n\r\n", b"\r\n\r.\rMAIL FROM:<x@y>\r\n\r\n", 1)
    assert accept_message(bare_cr, mail_from="a@b", rcpt_tos=["s@x"]).startswith("550 5.6.11")
    lf_then_crlf = make_mail() + b"\n\r\n"  # LF followed by CRLF: the first LF is bare
    assert accept_message(lf_then_crlf, mail_from="a@b", rcpt_tos=["s@x"]).startswith("550")
    assert InboundMail.objects.count() == 0
    assert accept_message(make_mail(), mail_from="a@b", rcpt_tos=["s@x"]).startswith("250")


@pytest.mark.django_db
def test_it_answers_451_when_the_message_cannot_be_stored(monkeypatch):
    from supportdesk.intake.email import smtp

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(smtp, "store_mail", broken)
    assert accept_message(make_mail(), mail_from="a@b", rcpt_tos=["s@x"]).startswith("451 4.3.0")


@pytest.fixture
def listener(transactional_db):
    make_customer(slug="acme", domains=["acme.example"], plan="gold")
    port = free_port()
    running = start_listener(host="127.0.0.1", port=port)
    yield port, running.worker
    running.stop()


def test_it_turns_a_real_smtp_conversation_into_a_ticket(listener):
    port, worker = listener
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        refused = client.sendmail("ana@acme.example", ["support@supportdesk.localhost"], make_mail())
    assert refused == {}
    assert InboundMail.objects.count() == 1  # committed before the 250 came back
    assert worker.wait_idle(timeout=30)
    ticket = Ticket.objects.get()
    assert (ticket.queue, ticket.account.slug, ticket.channel) == ("customer", "acme", "email")


@override_settings(SUPPORTDESK_MAX_MESSAGE_BYTES=4096)
def test_it_refuses_an_oversized_message_in_a_real_conversation(listener):
    port, _ = listener
    # Refused at MAIL FROM (SIZE=) or after DATA: either way 552 5.3.4.
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused,
    ):
        client.sendmail("ana@acme.example", ["support@x"], make_mail(body="x" * 10_000))
    assert refused.value.smtp_code == 552
    assert refused.value.smtp_error.startswith(b"5.3.4")
    assert InboundMail.objects.count() == 0


def test_it_keeps_lines_that_start_with_a_dot_and_stores_exact_bytes(listener):
    port, worker = listener
    raw = make_mail(body=".hidden first line\r\n..two dots\r\n.\r\nnot the end\r\nlast")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("ana@acme.example", ["support@x"], raw)
        client.sendmail("ana@acme.example", ["support@x"], make_mail(subject="second"))
    rows = list(InboundMail.objects.order_by("id"))
    assert bytes(rows[0].raw) == raw
    assert len(rows) == 2


def test_it_answers_lmtp_once_per_recipient(transactional_db):
    port = free_port()
    running = start_listener(host="127.0.0.1", port=port, lmtp=True, process=False)
    try:
        # smtplib's LMTP.sendmail reads one reply only; LMTP sends one per recipient.
        with smtplib.LMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo_or_helo_if_needed()
            client.mail("ana@acme.example")
            client.rcpt("a@x")
            client.rcpt("b@x")
            first = client.data(make_mail())
            second = client.getreply()
        assert first[0] == 250 and second[0] == 250
        assert InboundMail.objects.get().route == "lmtp"
    finally:
        running.stop()


def test_it_answers_451_in_a_real_conversation_when_storing_fails(listener, monkeypatch):
    from supportdesk.intake.email import smtp

    def broken(mails):
        raise RuntimeError("database gone")

    monkeypatch.setattr(smtp, "store_mails", broken)
    port, _ = listener
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail("ana@acme.example", ["support@x"], make_mail())
    assert refused.value.smtp_code == 451
    assert refused.value.smtp_error.startswith(b"4.3.0")
    assert InboundMail.objects.count() == 0


def test_a_waiting_store_goes_before_the_next_processing_batch():
    import threading

    from supportdesk.intake.email.smtp import WriteTurns

    turns = WriteTurns()
    order: list[str] = []

    def store() -> None:
        with turns.store():
            order.append("store")

    def process() -> None:
        with turns.process():
            order.append("process")

    with turns.process():  # a processing batch holds the turn
        storer = threading.Thread(target=store)
        storer.start()
        while not turns._stores_waiting:  # the store is queued behind it
            threading.Event().wait(0)
        processor = threading.Thread(target=process)
        processor.start()
    storer.join()
    processor.join()
    assert order == ["store", "process"]


PATHS = [
    "<a@b.com>", " <a.b@c.d> SIZE=100 BODY=8BITMIME", "<a..b@c.d>", "<.a@c.d>", "<a@[1.2.3.4]>",
    '<"a b"@c.d>', "a@b.c", "<>", "<a@b>x", "<a@b.c>  SMTPUTF8", "<ana+x@empresa.com.br>",
    "<a@b..c>", "<a@b.c", "<a@b.c>\r\n", "<a@b.c> \t SIZE=1", "<a@b.c> (hi) SIZE=1",
    "<a@b.c>(hi)", "<ação@b.c>", "<a@b.c> SIZE=1 (x)", "<@relay.example:a@b.c>",
]


def read_path(server_class, path):
    try:
        return server_class(object())._getaddr(path)
    except Exception as exc:  # the email package's parser fails on some junk; so must we
        return type(exc)


@pytest.mark.parametrize("path", PATHS)
def test_mail_from_and_rcpt_to_paths_read_as_aiosmtpd_reads_them(path):
    # The listener reads plain paths itself (cheaper); it must never read one differently.
    from aiosmtpd.smtp import SMTP

    from supportdesk.intake.email.smtp import _SMTP

    assert read_path(_SMTP, path) == read_path(SMTP, path)


@given(st.text(alphabet="<>@.ab\"( )\t-+é[]:,;\\", max_size=24))
def test_any_path_reads_as_aiosmtpd_reads_it(path):
    from aiosmtpd.smtp import SMTP

    from supportdesk.intake.email.smtp import _SMTP

    assert read_path(_SMTP, path) == read_path(SMTP, path)


@pytest.mark.django_db(transaction=True)
def test_a_backlog_in_the_listener_becomes_one_ticket_per_mail():
    # Mail that piles up while the listener is busy is processed in batches (parsed in
    # a helper process once there are several): still one ticket per mail, each
    # acknowledged, replies threaded onto the ticket opened in the same batch.
    from supportdesk.intake.email.smtp import IntakeWorker
    from supportdesk.outbound.models import OutboundMail

    make_customer(slug="acme", domains=["acme.example"], plan="gold")
    first = make_mail(sender="Ana <ana@acme.example>", subject="Export broken", message_id="<root@acme.example>")
    mails = [first] + [make_mail(sender=f"C{i} <c{i}@acme.example>", subject=f"Problem {i}") for i in range(8)]
    mails.append(make_mail(sender="Ana <ana@acme.example>", subject="Re: Export broken",
                           in_reply_to="<root@acme.example>"))
    worker = IntakeWorker()
    for raw in mails:
        assert accept_message(raw, mail_from="a@acme.example", rcpt_tos=["s@x"],
                              on_stored=worker.submit).startswith("250 ")
    worker.start()
    try:
        assert worker.wait_idle(timeout=120)
    finally:
        worker.stop()
    rows = list(InboundMail.objects.order_by("id"))
    assert [r.status for r in rows] == ["processed"] * 10
    assert [r.action for r in rows] == ["created"] * 9 + ["appended"]
    assert rows[-1].ticket_id == rows[0].ticket_id
    assert Ticket.objects.count() == 9
    assert OutboundMail.objects.filter(kind="acknowledgement").count() == 9
