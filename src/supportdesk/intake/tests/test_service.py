from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from supportdesk.accounts import actions as account_actions
from supportdesk.accounts.testing import contact, make_agent, make_customer
from supportdesk.intake.service import (
    Action,
    InboundAttachment,
    InboundRequest,
    identify_caller_by_phone,
    identify_sender_by_email,
    receive,
)
from supportdesk.tickets.models import Event, Message

pytestmark = pytest.mark.django_db

# Tuesday 2025-03-04 12:00 UTC = 09:00 in São Paulo.
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme():
    return make_customer(
        contacts=[("ana@acme.example", "Ana", True), ("bob@acme.example", "Bob", False)],
        phones={"ana@acme.example": "+55 11 91234-5678"},
    )


def email(sender: str, subject: str = "Server down", **extra) -> InboundRequest:
    return InboundRequest(channel="email", sender_email=sender, subject=subject, body_text="help", **extra)


# --- email -----------------------------------------------------------------------------


def test_it_files_mail_from_a_registered_domain_in_the_customer_queue(acme):
    result = receive(email("ana@acme.example"))
    assert result.action == Action.CREATED
    assert (result.queue, result.account, result.contact) == ("customer", acme, contact("ana@acme.example"))
    ticket = result.ticket
    assert (ticket.channel, ticket.severity, ticket.status) == ("email", "medium", "new")
    # Gold, Medium: 6 h on the 24x7 clock.
    assert ticket.first_response_due == datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
    assert NOW < ticket.next_sla_at <= ticket.first_response_due  # the SLA worker will look
    assert (ticket.sla_target, ticket.sla_coverage, ticket.sla_terms_plan) == ("6 h", "24x7", "gold")
    assert ticket.sla_policy_version
    assert any("acme.example is registered on account Acme" in r for r in ticket.sla_reasons)


def test_email_tickets_are_always_medium_whatever_was_asked(acme):
    result = receive(email("ana@acme.example", requested_severity="high"))
    assert result.severity == "medium"


def test_it_routes_free_mail_to_unidentified_queue(acme):
    result = receive(email("ana.acme@gmail.com"))
    assert (result.queue, result.account, result.first_response_due) == ("unidentified", None, None)
    assert any("free-mail" in r for r in result.reasons)


def test_it_does_not_identify_a_subdomain_unless_the_account_allows_it(acme):
    assert receive(email("x@eu.acme.example")).queue == "unidentified"
    account_actions.update_account(account=acme, allow_subdomains=True)
    result = receive(email("x@eu.acme.example"))
    assert (result.queue, result.account) == ("customer", acme)
    assert result.contact is None


def test_it_does_not_identify_a_lookalike_domain(acme):
    assert identify_sender_by_email("ana@acme.example.evil.test").account is None
    assert identify_sender_by_email("ana@notacme.example").account is None


def test_it_identifies_an_address_case_insensitively(acme):
    found = identify_sender_by_email("ANA@Acme.Example")
    assert (found.account, found.contact) == (acme, contact("ana@acme.example"))


def test_a_batch_identifies_its_senders_as_one_at_a_time_does(acme):
    # receive_many looks all of a batch's senders up in one query; the answers must be
    # exactly those of one lookup per sender (accounts, contacts and reasons).
    from supportdesk.intake.service import senders_looked_up

    account_actions.update_account(account=acme, allow_subdomains=True)
    make_customer(slug="eu", name="Acme Europe", domains=["eu.acme.example"],
                  contacts=[("ana@eu.acme.example", "Ana EU", True)])
    make_customer(slug="globex", name="Globex", domains=["globex.example"], contacts=[])
    contact("bob@acme.example").delete()  # gone: no longer a contact
    senders = [
        "ana@acme.example", "ANA@Acme.Example", "bob@acme.example", "zoe@acme.example",
        "ana@eu.acme.example", "x@eu.acme.example", "x@deep.eu.acme.example", "y@sub.globex.example",
        "g@globex.example", "ana.acme@gmail.com", "ana@acme.example.evil.test", "no-at-sign",
        "a@-bad-.example", "ana@notacme.example",
    ]
    alone = [identify_sender_by_email(s) for s in senders]
    with senders_looked_up(senders):
        together = [identify_sender_by_email(s) for s in senders]
    summary = [(i.account, i.contact, i.reasons) for i in alone]
    assert [(i.account, i.contact, i.reasons) for i in together] == summary
    assert [i.account.slug if i.account else None for i in alone] == [
        "acme", "acme", "acme", "acme", "eu", "eu", "acme", None, "globex", None, None, None, None, None,
    ]


def test_mail_that_failed_authentication_goes_to_review_without_the_account(acme):
    result = receive(email("ana@acme.example", authenticated=False))
    assert (result.queue, result.account, result.first_response_due) == ("review", None, None)
    assert any("failed sender authentication" in r for r in result.reasons)


def test_review_reasons_of_the_channel_send_it_to_review_keeping_the_account(acme):
    result = receive(email("ana@acme.example", review_reasons=["looks like an auto-reply"]))
    assert (result.queue, result.account) == ("review", acme)
    assert "looks like an auto-reply" in result.reasons


def test_mail_through_a_channel_the_plan_lacks_is_kept_without_sla():
    make_customer(slug="emp", name="Empresa", domains=["empresa.example"], plan="standard",
                  starts=date(2025, 1, 1), contacts=[("ti@empresa.example", "TI", True)])
    result = receive(email("ti@empresa.example"))
    assert (result.action, result.queue, result.first_response_due) == ("created", "customer", None)
    assert result.channel_allowed is False
    assert result.plan_channels == ("portal",)
    assert any("not in plan Support Standard" in r for r in result.reasons)


def test_an_expired_account_gets_no_sla_but_its_ticket_is_accepted():
    make_customer(plan="plus", starts=date(2024, 1, 1), ends=date(2025, 1, 1))
    result = receive(email("ana@acme.example"))
    assert (result.queue, result.first_response_due) == ("customer", None)
    assert any("ended 2025-01-01" in r for r in result.reasons)


def test_a_trial_account_gets_standard_terms_in_the_portal():
    make_customer(plan="plus", status="trial", starts=date(2025, 1, 1))
    result = receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"),
                                    subject="Question", requested_severity="high"))
    # Support Standard: 1 business day on 12x5; opened 09:00 BRT Tuesday -> Wednesday 09:00 BRT.
    assert result.first_response_due == datetime(2025, 3, 5, 12, 0, tzinfo=UTC)
    assert result.ticket.sla_terms_plan == "standard"


def test_the_sla_uses_the_plan_in_force_when_the_request_was_received(acme):
    account_actions.record_subscription(
        account=acme, plan="gold", status="suspended", starts=date(2025, 3, 4), ends=date(2027, 3, 1)
    )
    result = receive(email("ana@acme.example", received_at=datetime(2025, 3, 3, 12, 0, tzinfo=UTC)))
    assert result.first_response_due == datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
    assert receive(email("ana@acme.example")).first_response_due is None


# --- portal ----------------------------------------------------------------------------


def test_a_point_of_contact_opens_a_ticket_with_the_severity_they_chose(acme):
    result = receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"),
                                    subject="Down", body_text="all down", requested_severity="high"))
    assert (result.action, result.severity, result.queue) == ("created", "high", "customer")
    assert result.first_response_due == datetime(2025, 3, 4, 12, 30, tzinfo=UTC)  # Gold High: 30 min
    assert result.ticket.requester == contact("ana@acme.example")
    assert result.ticket.requester_email == "ana@acme.example"


def test_a_contact_who_is_not_a_point_of_contact_is_refused_naming_the_points_of_contact(acme):
    result = receive(InboundRequest(channel="portal", contact=contact("bob@acme.example"), subject="Hi"))
    assert (result.action, result.ticket) == ("refused", None)
    assert result.refusal == "Only Acme's points of contact can open tickets. Please ask Ana <ana@acme.example>."
    assert not Message.objects.exists()


def test_a_portal_request_without_a_severity_is_medium(acme):
    result = receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"), subject="Hi"))
    assert result.severity == "medium"


def test_portal_attachments_over_the_limit_are_refused(acme, settings):
    settings.SUPPORTDESK_MAX_ATTACHMENT_BYTES = 10
    with pytest.raises(ValidationError, match="big.bin is 11 bytes; the limit is 10 bytes"):
        receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"), subject="Hi",
                               attachments=[InboundAttachment("big.bin", b"x" * 11)]))


# --- hotline ---------------------------------------------------------------------------


def test_a_call_from_a_known_number_opens_a_high_ticket_logged_by_the_specialist(acme):
    sam = make_agent()
    result = receive(InboundRequest(channel="hotline", sender_phone="(11) 91234-5678",
                                    subject="Production down", logged_by=sam))
    assert (result.severity, result.account, result.contact) == ("high", acme, contact("ana@acme.example"))
    assert result.first_response_due == datetime(2025, 3, 4, 12, 30, tzinfo=UTC)
    opened = Event.objects.get(ticket=result.ticket, kind="opened")
    assert opened.actor == sam


def test_a_call_from_an_unknown_number_is_unidentified(acme):
    assert identify_caller_by_phone("+55 21 99999-0000").account is None
    result = receive(InboundRequest(channel="hotline", sender_phone="+55 21 99999-0000", subject="?"))
    assert (result.queue, result.first_response_due) == ("unidentified", None)


# --- what is stored --------------------------------------------------------------------


def test_it_keeps_the_message_sanitised_with_its_attachment_and_an_opening_event(acme, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = receive(email("ana@acme.example", body_html='<p onclick="x()">Hi<script>alert(1)</script></p>',
                           attachments=[InboundAttachment("../../etc/passwd.txt", b"hello", "text/plain")]))
    message = result.ticket.messages.get()
    assert message.kind == "customer"
    assert message.body_html == "<p>Hi</p>"
    attachment = message.attachments.get()
    assert attachment.original_name == "passwd.txt"
    assert "passwd" not in attachment.file.name and attachment.file.name.endswith(".txt")
    assert attachment.file.read() == b"hello"
    assert attachment.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert result.ticket.events.get().kind == "opened"


def test_oversized_mail_attachments_are_not_stored_and_the_ticket_says_so(acme, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SUPPORTDESK_MAX_ATTACHMENT_BYTES = 4
    result = receive(email("ana@acme.example", attachments=[InboundAttachment("big.log", b"12345")]))
    assert not result.ticket.messages.get().attachments.exists()
    assert any("big.log (5 bytes) is over the size limit" in r for r in result.reasons)


def test_tickets_get_consecutive_numbers(acme):
    numbers = [receive(email("ana@acme.example")).ticket.number for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


# --- many at once (group commit) -------------------------------------------------------


def test_receive_many_keeps_every_good_request_when_one_in_the_batch_fails(acme):
    from supportdesk.intake.service import IntakeResult, receive_many
    from supportdesk.tickets.models import Ticket

    # A file whose content is text, not bytes: it fails while the ticket is being
    # written (after its number was taken), not before.
    broken = email("bob@acme.example", "Broken", attachments=[InboundAttachment("a.txt", "text")])
    results = receive_many([email("ana@acme.example", "First"), broken, email("x@gmail.com", "Third")])

    assert isinstance(results[0], IntakeResult) and isinstance(results[2], IntakeResult)
    assert isinstance(results[1], Exception)
    assert [t.subject for t in Ticket.objects.order_by("number")] == ["First", "Third"]
    # The failed request gave its number back: numbers stay unique and without gaps.
    numbers = [results[0].ticket.number, results[2].ticket.number]
    assert numbers[1] == numbers[0] + 1
    assert sorted(Ticket.objects.values_list("number", flat=True)) == numbers
    assert not Message.objects.filter(ticket__subject="Broken").exists()
    assert Event.objects.filter(kind="opened").count() == 2


def test_receive_many_writes_attachments_with_their_own_messages(acme, settings, tmp_path):
    from supportdesk.intake.service import receive_many

    settings.MEDIA_ROOT = tmp_path
    results = receive_many([
        email("ana@acme.example", "Plain"),
        email("ana@acme.example", "With a log", attachments=[InboundAttachment("gateway.log", b"502 at 10:05")]),
        email("x@gmail.com", "Two files", attachments=[InboundAttachment("a.png", b"png"),
                                                      InboundAttachment("../b.csv", b"1,2")]),
    ])
    files = [
        sorted((a.original_name, a.file.read()) for a in r.ticket.messages.get().attachments.all())
        for r in results
    ]
    assert files == [[], [("gateway.log", b"502 at 10:05")], [("a.png", b"png"), ("b.csv", b"1,2")]]
    assert [r.ticket.number for r in results] == [results[0].ticket.number + i for i in range(3)]


def test_receive_many_numbers_stay_unique_across_batches_and_single_openings(acme):
    from supportdesk.intake.service import receive_many
    from supportdesk.tickets.models import Ticket

    receive(email("ana@acme.example"))
    receive_many([email("ana@acme.example") for _ in range(5)])
    receive(email("bob@acme.example"))
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 7


def test_receive_many_pages_on_call_for_the_high_tickets_that_committed(
    acme, django_capture_on_commit_callbacks
):
    from supportdesk.intake.service import receive_many
    from supportdesk.sla.models import Page

    high = InboundRequest(channel="portal", contact=contact("ana@acme.example"), subject="Down",
                          body_text="all down", requested_severity="high")
    failing = InboundRequest(channel="portal", contact=contact("ana@acme.example"), subject="Down too",
                             body_text="x", requested_severity="high",
                             attachments=[InboundAttachment("a.txt", "text")])
    with django_capture_on_commit_callbacks(execute=True):
        results = receive_many([high, failing, email("ana@acme.example")])
    assert [type(r).__name__ for r in results] == ["IntakeResult", "TypeError", "IntakeResult"]
    # Gold is 24x7: the High ticket pages (nobody is on call here), the failed one does not.
    assert [p.ticket.subject for p in Page.objects.all()] == ["Down"]


def test_receive_many_sees_a_subscription_change_made_between_batches(acme):
    from supportdesk.intake.service import receive_many

    first = receive_many([email("ana@acme.example"), email("bob@acme.example")])
    assert [r.ticket.sla_plan for r in first] == ["gold", "gold"]
    account_actions.record_subscription(account=acme, plan="standard", status="active",
                                        starts=date(2025, 3, 1))
    second = receive_many([email("ana@acme.example")])
    assert second[0].ticket.sla_plan == "standard"
    assert receive(email("ana@acme.example")).ticket.sla_plan == "standard"


def test_a_batch_decides_every_request_as_one_at_a_time_does(acme):
    # receive_many reads the batch's callers and the subscriptions of every account it
    # could be filed under at once; the decisions must be exactly those of `receive`.
    from supportdesk.intake.service import receive_many

    lapsed = make_customer(slug="lapsed", name="Lapsed", domains=["lapsed.example"], plan="standard",
                           ends=date(2025, 1, 1), contacts=[("lia@lapsed.example", "Lia", True)],
                           phones={"lia@lapsed.example": "+55 11 95555-0001"})
    later = make_customer(slug="later", name="Later", domains=["later.example"], plan="standard",
                          status="suspended", starts=date(2024, 1, 1), ends=date(2026, 1, 1),
                          contacts=[("leo@later.example", "Leo", True)],
                          phones={"leo@later.example": "+55 11 95555-0002"})
    # The newest row starts after the batch's day: not yet in force.
    account_actions.record_subscription(account=later, plan="plus", status="active", starts=date(2025, 6, 1))
    none = make_customer(slug="none", name="None", domains=["none.example"], plan=None,
                         contacts=[("nia@none.example", "Nia", True)],
                         phones={"nia@none.example": "+55 11 95555-0003"})
    make_customer(slug="twin", name="Twin", domains=["twin.example"],
                  contacts=[("tom@twin.example", "Tom", True)], phones={"tom@twin.example": "+55 11 95555-0003"})
    december = datetime(2024, 12, 2, 15, 0, tzinfo=UTC)  # Lapsed's plan was still in force

    def hotline(phone: str = "", **extra) -> InboundRequest:
        return InboundRequest(channel="hotline", sender_phone=phone, subject="Call", body_text="c", **extra)

    batch = [
        email("ana@acme.example"), email("lia@lapsed.example"), email("x@lapsed.example", received_at=december),
        email("leo@later.example"), email("nia@none.example"), email("tom@twin.example"),
        hotline("(11) 91234-5678"), hotline("+55 11 95555-0001", received_at=december),
        hotline("+55 11 95555-0002"), hotline("+55 11 95555-0003"), hotline("not a number"),
        hotline("+55 21 99999-0000", claimed_account=none), hotline(claimed_account=lapsed),
        InboundRequest(channel="portal", contact=contact("leo@later.example"), subject="P",
                       body_text="p", requested_severity="high"),
    ]

    def decided(result) -> tuple:
        ticket = result.ticket
        return (result.queue, result.account, result.contact, result.severity, result.first_response_due,
                result.reasons, ticket.sla_plan, ticket.sla_account_status, ticket.sla_target)

    alone = [decided(receive(request)) for request in batch]
    together = [decided(result) for result in receive_many(batch)]
    assert together == alone
    assert [(queue, account.slug if account else None, plan, status)
            for queue, account, _, _, _, _, plan, status, _ in alone] == [
        ("customer", "acme", "gold", "active"), ("customer", "lapsed", "standard", "expired"),
        ("customer", "lapsed", "standard", "active"), ("customer", "later", "standard", "suspended"),
        ("customer", "none", "", "expired"), ("customer", "twin", "gold", "active"),
        ("customer", "acme", "gold", "active"), ("customer", "lapsed", "standard", "active"),
        ("customer", "later", "standard", "suspended"), ("unidentified", None, "", ""),
        ("unidentified", None, "", ""), ("customer", "none", "", "expired"),
        ("customer", "lapsed", "standard", "expired"), ("customer", "later", "standard", "suspended"),
    ]


def test_receive_many_opens_the_others_in_order_when_one_request_is_bad(acme):
    from supportdesk.intake.service import IntakeResult, receive_many
    from supportdesk.tickets.models import Ticket

    first_number = receive(email("ana@acme.example", "Before")).ticket.number
    bad_severity = InboundRequest(channel="portal", contact=contact("ana@acme.example"),
                                  subject="Bad", body_text="x", requested_severity="urgent")
    refused = InboundRequest(channel="portal", contact=contact("bob@acme.example"),
                             subject="Not a point of contact", body_text="x")
    batch = [
        email("ana@acme.example", "One", body_html="<p>one<script>x()</script></p>"),
        bad_severity,
        InboundRequest(channel="hotline", sender_phone="+55 11 91234-5678", subject="Two",
                       body_text="call"),
        refused,
        email("x@gmail.com", "Three"),
    ]
    results = receive_many(batch)

    assert isinstance(results[1], ValidationError)
    assert results[3].action == Action.REFUSED
    opened = [results[0], results[2], results[4]]
    assert all(isinstance(r, IntakeResult) and r.action == Action.CREATED for r in opened)
    assert [r.ticket.number for r in opened] == [first_number + 1, first_number + 2, first_number + 3]
    assert [(t.number, t.subject, t.queue, t.severity) for t in Ticket.objects.order_by("number")] == [
        (first_number, "Before", "customer", "medium"),
        (first_number + 1, "One", "customer", "medium"),
        (first_number + 2, "Two", "customer", "high"),
        (first_number + 3, "Three", "unidentified", "medium"),
    ]
    for result in opened:
        message = Message.objects.get(ticket=result.ticket)
        assert message.pk == result.ticket.messages.get().pk
        event = Event.objects.get(ticket=result.ticket, kind="opened")
        assert event.after["number"] == result.ticket.number
        assert event.after["channel"] == result.ticket.channel
        assert result.ticket.sla_plan == ("gold" if result.account else "")
    assert Message.objects.get(ticket__subject="One").body_html == "<p>one</p>"
    assert Message.objects.get(ticket__subject="Two").body_text == "call"
    assert results[0].first_response_due == Ticket.objects.get(subject="One").first_response_due


def test_receive_many_falls_back_to_one_at_a_time_when_the_batch_write_fails(acme):
    from supportdesk.accounts.models import User
    from supportdesk.intake.service import IntakeResult, receive_many
    from supportdesk.tickets.models import Ticket

    # A specialist whose id no database column can hold: only the write fails.
    impossible = User(pk=2**70, email="ghost@example.com")
    bad = InboundRequest(channel="hotline", sender_phone="+55 11 91234-5678", subject="Bad",
                         body_text="x", logged_by=impossible)
    results = receive_many([email("ana@acme.example", "One"), bad, email("x@gmail.com", "Two")])

    assert isinstance(results[0], IntakeResult) and isinstance(results[2], IntakeResult)
    assert isinstance(results[1], Exception)
    assert [t.subject for t in Ticket.objects.order_by("number")] == ["One", "Two"]
    assert results[2].ticket.number == results[0].ticket.number + 1
    assert Message.objects.count() == 2
    assert sorted(Event.objects.filter(kind="opened").values_list("after__number", flat=True)) == [
        results[0].ticket.number, results[2].ticket.number,
    ]
