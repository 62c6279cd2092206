"""Email intake end to end on the real database: routing, spoofing, threading, loops."""

from __future__ import annotations

import pytest
from django.test import override_settings

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.outbound.models import OutboundMail
from supportdesk.tickets.models import Message, Status, Ticket

pytestmark = pytest.mark.django_db

AUTHSERV = "mx.desk.example"


def dmarc(domain: str, result: str = "pass") -> str:
    return f"Authentication-Results: {AUTHSERV}; spf=pass smtp.mailfrom={domain}; dmarc={result} header.from={domain}"


@pytest.fixture
def acme():
    return make_customer(
        slug="acme", domains=["acme.example"], plan="gold",
        contacts=[("ana@acme.example", "Ana", True), ("bia@acme.example", "Bia", False)],
    )


@pytest.fixture
def empresa():
    return make_customer(
        slug="empresa", name="Empresa", domains=["empresa.example"], plan="standard",
        starts=__import__("datetime").date(2025, 1, 1),
        contacts=[("ti@empresa.example", "TI", True)],
    )


def acks_to(address: str) -> list[OutboundMail]:
    return list(OutboundMail.objects.filter(kind=OutboundMail.Kind.ACKNOWLEDGEMENT, recipient=address))


def test_it_files_a_customer_mail_in_the_customer_queue_with_the_plan_sla(acme):
    outcome = ingest(make_mail())
    assert outcome.action == "created"
    assert (outcome.account, outcome.queue, outcome.severity) == ("acme", "customer", "medium")
    assert outcome.first_response_due and outcome.first_response_due.endswith("Z")
    ticket = Ticket.objects.get(number=outcome.ticket)
    assert ticket.channel == "email" and ticket.requester_email == "ana@acme.example"
    [ack] = acks_to("ana@acme.example")
    assert f"[#{ticket.number}]" in ack.subject
    assert outcome.acknowledged


def test_it_keeps_mail_from_a_plan_without_email_without_sla_and_names_the_plans_channels(empresa):
    outcome = ingest(make_mail(sender="ti@empresa.example"))
    assert (outcome.account, outcome.queue, outcome.first_response_due) == ("empresa", "customer", None)
    [ack] = acks_to("ti@empresa.example")
    assert "portal" in ack.text.lower()


def test_it_routes_free_mail_to_unidentified_queue(acme):
    outcome = ingest(make_mail(sender="Ana <ana.acme@gmail.com>"))
    assert (outcome.account, outcome.queue, outcome.first_response_due) == (None, "unidentified", None)


def test_it_never_identifies_a_look_alike_domain(acme):
    outcome = ingest(make_mail(sender="ana@acme-example.com"))
    assert outcome.queue == "unidentified"
    outcome = ingest(make_mail(sender="ana@mail.acme.example"))
    assert outcome.queue == "unidentified"


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID=AUTHSERV)
def test_it_files_an_unauthenticated_customer_domain_for_review_without_acknowledgement(acme):
    outcome = ingest(make_mail(extra=dmarc("acme.example", "fail")))
    assert outcome.action == "review" and outcome.queue == "review"
    assert outcome.account is None
    assert any("not authenticated" in r for r in outcome.reasons)
    assert acks_to("ana@acme.example") == []


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID=AUTHSERV)
def test_it_ignores_a_forged_pass_below_our_mtas_header(acme):
    forged = dmarc("acme.example", "none") + "\n" + dmarc("acme.example", "pass")
    outcome = ingest(make_mail(extra=forged))
    assert outcome.queue == "review"


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID=AUTHSERV)
def test_it_identifies_a_customer_whose_dmarc_passed(acme):
    outcome = ingest(make_mail(extra=dmarc("acme.example")))
    assert (outcome.action, outcome.account, outcome.queue) == ("created", "acme", "customer")


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID=AUTHSERV)
def test_it_does_not_hold_unauthenticated_free_mail_for_review(acme):
    outcome = ingest(make_mail(sender="someone@gmail.com"))
    assert outcome.queue == "unidentified"


def test_it_sends_an_ambiguous_sender_to_review_with_the_reason(acme):
    outcome = ingest(make_mail(sender="ana@acme.example, eve@evil.example"))
    assert outcome.action == "review"
    ticket = Ticket.objects.get(number=outcome.ticket)
    assert ticket.queue == "review" and ticket.account is None
    assert any("2 addresses" in r for r in ticket.sla_reasons)
    assert OutboundMail.objects.count() == 0


def _ack_message_id(address: str) -> str:
    return acks_to(address)[-1].message_id


def test_it_appends_a_reply_to_our_acknowledgement(acme):
    first = ingest(make_mail())
    ack_id = _ack_message_id("ana@acme.example")
    reply = ingest(make_mail(subject="Re: Export is broken", in_reply_to=ack_id, references=ack_id,
                             body="More details."))
    assert (reply.action, reply.ticket) == ("appended", first.ticket)
    assert Message.objects.filter(ticket__number=first.ticket).count() == 2
    assert len(acks_to("ana@acme.example")) == 1  # a reply gets no new acknowledgement


def test_it_appends_by_subject_tag_for_a_contact_of_the_account(acme):
    first = ingest(make_mail())
    reply = ingest(make_mail(sender="bia@acme.example", subject=f"Re: [#{first.ticket}] Export"))
    assert (reply.action, reply.ticket) == ("appended", first.ticket)


def test_it_starts_a_new_ticket_for_a_stranger_replying_and_reveals_nothing(acme):
    first = ingest(make_mail(body="secret customer data"))
    ack_id = _ack_message_id("ana@acme.example")
    stranger = ingest(make_mail(sender="eve@evil.example", subject=f"Re: [#{first.ticket}] Export",
                                in_reply_to=ack_id))
    assert stranger.action == "created" and stranger.ticket != first.ticket
    assert Message.objects.filter(ticket__number=first.ticket).count() == 1
    new = Ticket.objects.get(number=stranger.ticket)
    assert f"#{first.ticket}" not in new.subject
    [ack] = acks_to("eve@evil.example")
    assert "secret customer data" not in ack.text and f"#{first.ticket}]" not in ack.subject


def test_it_starts_a_new_ticket_for_a_non_contact_of_the_same_domain(acme):
    first = ingest(make_mail())
    other = ingest(make_mail(sender="carl@acme.example", subject=f"Re: [#{first.ticket}] Export"))
    assert other.action == "created" and other.ticket != first.ticket


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID=AUTHSERV)
def test_it_never_appends_an_unauthenticated_reply_to_a_customer_ticket(acme):
    first = ingest(make_mail(extra=dmarc("acme.example")))
    ack_id = _ack_message_id("ana@acme.example")
    spoof = ingest(make_mail(in_reply_to=ack_id, subject=f"Re: [#{first.ticket}] Export"))
    assert spoof.action == "review" and spoof.ticket != first.ticket
    assert Message.objects.filter(ticket__number=first.ticket).count() == 1


def _set_status(number: int, status: str) -> None:
    # Specialists solve and close tickets through the core action.
    from supportdesk.accounts.testing import make_agent
    from supportdesk.tickets import actions

    ticket = Ticket.objects.get(number=number)
    actions.change_status(ticket=ticket, status=status, actor=make_agent(email=f"a{number}{status}@desk.example"))


def test_it_reopens_a_solved_ticket_on_reply(acme):
    first = ingest(make_mail())
    _set_status(first.ticket, Status.SOLVED)
    reply = ingest(make_mail(subject=f"Re: [#{first.ticket}] Export", body="Still broken"))
    assert (reply.action, reply.ticket) == ("appended", first.ticket)
    assert Ticket.objects.get(number=first.ticket).status == Status.OPEN


def test_it_opens_a_linked_new_ticket_for_a_reply_to_a_closed_ticket(acme):
    first = ingest(make_mail())
    _set_status(first.ticket, Status.CLOSED)
    reply = ingest(make_mail(subject=f"Re: [#{first.ticket}] Export", body="Again"))
    assert reply.action == "created" and reply.ticket != first.ticket
    assert Ticket.objects.get(number=first.ticket).status == Status.CLOSED
    new = Ticket.objects.get(number=reply.ticket)
    assert new.messages.filter(body_text__contains=f"closed ticket #{first.ticket}").exists()


def test_it_makes_one_ticket_of_one_mail_delivered_twice_by_two_routes(acme):
    raw = make_mail()
    first = ingest(b"Received: from a by mx1; Mon, 30 Nov 2026 12:00:01 -0300\r\n" + raw, route="smtp")
    again = ingest(
        b"Received: from b by mx2\nDelivered-To: support@x\nReturn-Path: <ana@acme.example>\n"
        + raw.replace(b"\r\n", b"\n"),
        route="imap",
    )
    assert first.action == "created"
    assert (again.action, again.ticket) == ("duplicate", first.ticket)
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 2  # both deliveries are kept


def test_it_does_not_trust_a_reused_message_id_as_a_duplicate(acme):
    first = ingest(make_mail(message_id="<same@x>"))
    other = ingest(make_mail(message_id="<same@x>", sender="bia@acme.example", body="different"))
    assert other.action == "created" and other.ticket != first.ticket


def test_it_stores_a_bounce_but_never_opens_a_ticket(acme):
    bounce = make_mail(
        sender="MAILER-DAEMON@mx.acme.example", subject="Undelivered Mail Returned to Sender",
        extra="Auto-Submitted: auto-replied",
    )
    outcome = ingest(bounce, route="smtp", envelope_sender="")
    assert outcome.action == "ignored" and outcome.ticket is None
    assert Ticket.objects.count() == 0
    assert bytes(InboundMail.objects.get(pk=outcome.inbound_id).raw) == bounce


def test_it_never_acknowledges_automatic_or_noreply_mail(acme):
    for extra, sender in [("Precedence: bulk", "ana@acme.example"), ("", "no-reply@acme.example"),
                          ("List-Id: <x.acme.example>", "bia@acme.example")]:
        outcome = ingest(make_mail(sender=sender, extra=extra))
        assert outcome.action == "created" and not outcome.acknowledged
    assert OutboundMail.objects.count() == 0


def test_it_appends_an_out_of_office_reply_silently_and_ignores_an_unthreaded_one(acme):
    first = ingest(make_mail())
    ack_id = _ack_message_id("ana@acme.example")
    ooo = ingest(make_mail(subject="Automatic reply: Export", in_reply_to=ack_id,
                           extra="Auto-Submitted: auto-replied"))
    assert (ooo.action, ooo.ticket) == ("appended", first.ticket)
    loose = ingest(make_mail(subject="Out of office", extra="Auto-Submitted: auto-replied"))
    assert loose.action == "ignored"
    assert len(acks_to("ana@acme.example")) == 1


def test_it_ignores_our_own_mail_coming_back(acme):
    outcome = ingest(make_mail(sender="support@supportdesk.localhost"))
    assert outcome.action == "ignored"


@override_settings(SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY=2)
def test_it_caps_acknowledgements_per_sender_per_day(acme):
    for _ in range(4):
        ingest(make_mail())
    assert len(acks_to("ana@acme.example")) == 2
    assert Ticket.objects.count() == 4


def test_it_processes_a_stored_mail_only_once(acme):
    from supportdesk.intake.email.process import process_mail

    outcome = ingest(make_mail())
    again = process_mail(InboundMail.objects.get(pk=outcome.inbound_id))
    assert again.ticket == outcome.ticket and Ticket.objects.count() == 1


def test_it_files_pathological_mail_for_review(acme):
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\np{i}\r\n" for i in range(3000))
    raw = (f"From: ana@acme.example\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           f"{parts}--b--\r\n").encode()
    outcome = ingest(raw)
    assert outcome.action == "review"
    assert any("MIME parts" in r for r in Ticket.objects.get(number=outcome.ticket).sla_reasons)


def test_it_keeps_an_inline_image_of_the_same_mail_and_drops_remote_ones(acme):
    raw = (
        b"From: ana@acme.example\r\nSubject: pic\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b'<p>see <img src="cid:shot@acme"> and <img src="https://tracker.example/p.gif"></p>\r\n'
        b"--b\r\nContent-Type: image/png\r\nContent-ID: <shot@acme>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
    )
    outcome = ingest(raw)
    message = Message.objects.get(ticket__number=outcome.ticket)
    assert 'src="cid:shot@acme"' in message.body_html
    assert "tracker.example" not in message.body_html
    assert message.attachments.count() == 1


def test_it_takes_nul_characters_in_a_mail_without_losing_it(acme):
    outcome = ingest(make_mail(subject="bad\x00subject", body="text with a NUL \x00 inside"))
    assert outcome.action == "created"
    message = Message.objects.get(ticket__number=outcome.ticket)
    assert "\x00" not in message.body_text and "NUL" in message.body_text


def test_it_lets_no_out_of_office_reply_reopen_a_solved_ticket(acme):
    first = ingest(make_mail())
    _set_status(first.ticket, Status.SOLVED)
    ooo = ingest(make_mail(subject=f"Automatic reply: [#{first.ticket}] Export",
                           extra="Auto-Submitted: auto-replied"))
    assert ooo.action == "ignored"
    assert Ticket.objects.get(number=first.ticket).status == Status.SOLVED


def test_it_recognises_duplicates_inside_a_batch_and_of_earlier_batches(acme):
    from supportdesk.intake.email.bulk import ingest_many
    from supportdesk.intake.email.store import RawMail

    raw = make_mail()
    first = ingest(raw)
    outcomes = []
    ingest_many(
        [RawMail(raw=raw, route="maildir"), RawMail(raw=make_mail(), route="maildir"),
         RawMail(raw=b"Received: x\r\n" + raw, route="maildir")],
        on_outcome=outcomes.append,
    )
    assert [o.action for o in outcomes] == ["duplicate", "created", "duplicate"]
    assert outcomes[0].ticket == outcomes[2].ticket == first.ticket


def test_the_worker_task_processes_what_a_store_only_listener_stored(acme):
    from supportdesk.intake.email.store import RawMail, store_mail
    from supportdesk.intake.email.tasks import process_pending_mail

    for sender in ("ana@acme.example", "x@gmail.com"):
        store_mail(RawMail(raw=make_mail(sender=sender), route="smtp", envelope_sender=sender))
    assert process_pending_mail.call() == 2
    assert not InboundMail.objects.filter(status="stored").exists()
    assert sorted(Ticket.objects.values_list("queue", flat=True)) == ["customer", "unidentified"]


def test_the_bulk_path_gives_the_same_outcomes_when_parsing_in_a_helper_process(acme):
    from supportdesk.intake.email.bulk import ingest_many
    from supportdesk.intake.email.store import RawMail

    mails = [RawMail(raw=make_mail(sender=s), route="maildir")
             for s in ["ana@acme.example", "x@gmail.com", "eve@acme.example, bob@x.example"] * 3]
    outcomes = []
    ingest_many(mails, on_outcome=outcomes.append, batch_size=4, parallel=True)
    assert [o.queue for o in outcomes] == ["customer", "unidentified", "review"] * 3


def _with_attachment(size: int, **kwargs) -> bytes:
    import base64

    payload = base64.encodebytes(b"x" * size).decode()
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="../../etc/dump.bin"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{payload}\r\n--b--"
    )
    return make_mail(body=body, extra='Content-Type: multipart/mixed; boundary="b"', **kwargs).replace(
        b"Content-Type: text/plain; charset=utf-8\r\n", b"", 1
    )


@override_settings(SUPPORTDESK_MAX_ATTACHMENT_BYTES=1000)
def test_it_replaces_an_oversized_attachment_by_a_visible_note_on_new_and_appended_mail(acme):
    first = ingest(_with_attachment(5000))
    assert first.action == "created"
    opening = Message.objects.get(ticket__number=first.ticket)
    assert "dump.bin (5,000 bytes) is over the size limit" in opening.body_text
    assert opening.attachments.count() == 0
    reply = ingest(_with_attachment(5000, subject=f"Re: [#{first.ticket}] more"))
    assert (reply.action, reply.ticket) == ("appended", first.ticket)
    small = ingest(_with_attachment(100, subject=f"Re: [#{first.ticket}] small"))
    stored = Message.objects.filter(ticket__number=first.ticket).last().attachments.get()
    assert small.action == "appended" and stored.original_name == "dump.bin"
    assert "etc" not in stored.file.name and stored.file.name.endswith(".bin")


def test_it_rolls_back_its_own_ticket_when_another_process_claimed_the_mail_first(acme):
    from supportdesk.intake.email.process import process_mail

    outcome = ingest(make_mail())
    stale = InboundMail.objects.get(pk=outcome.inbound_id)
    stale.status = "stored"  # what a second process read before the first one committed
    again = process_mail(stale)
    assert (again.action, again.ticket) == ("created", outcome.ticket)
    assert Ticket.objects.count() == 1
    assert len(acks_to("ana@acme.example")) == 1


def test_it_threads_a_follow_up_that_answers_the_customers_own_earlier_mail(acme):
    first = ingest(make_mail(message_id="<first@client.example>"))
    follow = ingest(make_mail(sender="bia@acme.example", subject="Also this",
                              references="<first@client.example>"))
    assert (follow.action, follow.ticket) == ("appended", first.ticket)


def test_a_bulk_batch_of_new_mail_replies_duplicates_and_bounces_gives_the_outcomes_of_one_by_one(acme, time_machine):
    import datetime

    from django.db import transaction

    from supportdesk.intake.email.bulk import process_stored
    from supportdesk.intake.email.process import process_mail
    from supportdesk.intake.email.store import RawMail, store_mails

    time_machine.move_to(datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.UTC), tick=False)
    existing = ingest(make_mail(subject="Earlier problem"))
    ack_id = _ack_message_id("ana@acme.example")
    new = make_mail(subject="New problem")
    batch = [
        make_mail(sender="x@gmail.com", subject="Hi"),
        new,
        make_mail(subject="More on it", in_reply_to=ack_id),
        make_mail(sender="bia@acme.example", subject="Another"),
        new,  # the same mail delivered twice
        make_mail(sender="MAILER-DAEMON@mx.acme.example", subject="Undelivered Mail",
                  extra="Auto-Submitted: auto-replied"),
        _with_attachment(100),
        make_mail(subject=f"Re: [#{existing.ticket}] Earlier problem"),
        make_mail(sender="eve@acme.example, bob@x.example", subject="Two senders"),
        make_mail(sender="y@gmail.com", subject="Last"),
    ]
    store_mails([RawMail(raw=raw, route="maildir") for raw in batch])

    def state():
        tickets = [
            (t.number, t.queue, t.subject, t.status, t.account_id, t.first_response_due,
             list(t.sla_reasons), [(m.kind, m.body_text, m.source_ref) for m in t.messages.order_by("id")])
            for t in Ticket.objects.order_by("number")
        ]
        acks = [
            (m.recipient, m.subject, m.text, m.ticket.number,
             {k: v for k, v in dict(m.headers).items() if k in ("In-Reply-To", "References")})
            for m in OutboundMail.objects.order_by("id")
        ]
        return tickets, acks

    with transaction.atomic():
        one_by_one = [process_mail(row).as_json() for row in InboundMail.objects.order_by("id")
                      if row.status == InboundMail.Status.STORED]
        before = state()
        transaction.set_rollback(True)

    outcomes = []
    assert process_stored(on_outcome=outcomes.append, parallel=False) == len(batch)
    assert [o.as_json() for o in outcomes] == one_by_one
    assert state() == before
    assert [o["action"] for o in one_by_one] == [
        "created", "created", "appended", "created", "ignored", "created", "appended", "review",
        "created", "duplicate",
    ]
