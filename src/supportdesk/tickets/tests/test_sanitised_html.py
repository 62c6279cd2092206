"""HTML a channel already cleaned with the core's sanitiser is stored as it is; any other
HTML is cleaned by the core, whoever sends it."""

import pytest

from supportdesk.accounts.testing import contact, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets import actions
from supportdesk.tickets.models import Message

pytestmark = pytest.mark.django_db

DIRTY = '<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:y()">there</a></p>'


@pytest.fixture
def acme():
    return make_customer()


def opened_with(body_html: str) -> Message:
    result = receive(InboundRequest(channel="email", subject="Help", body_text="Hi",
                                    body_html=body_html, sender_email="ana@acme.example"))
    return result.ticket.messages.get()


def test_it_sanitises_html_nobody_marked(acme):
    assert opened_with(DIRTY).body_html == "<p>Hi <a rel=\"noopener noreferrer\">there</a></p>"


def test_it_stores_html_its_own_sanitiser_returned_as_it_is(acme):
    clean = actions.sanitise_html('<p>Hi <a href="https://acme.example/" rel="nofollow">docs</a></p>')
    assert isinstance(clean, actions.SanitisedHtml)
    stored = opened_with(clean).body_html
    assert stored == clean == '<p>Hi <a href="https://acme.example/" rel="noopener noreferrer">docs</a></p>'
    assert type(actions.sanitise_html(clean)) is str  # passed through once, then plain again


def test_html_changed_after_sanitising_is_sanitised_again(acme):
    clean = actions.sanitise_html("<p>Hi</p>")
    for changed in (clean + "<script>alert(1)</script>",
                    clean.replace("Hi", '<img src="x" onerror="alert(1)">'),
                    f"{clean}<iframe src=x></iframe>"):
        assert type(changed) is str
        stored = opened_with(changed).body_html
        assert "script" not in stored and "onerror" not in stored and "iframe" not in stored


def test_an_appended_customer_message_is_sanitised_unless_marked(acme):
    ticket = receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"),
                                    subject="Slow", body_text="since 8am")).ticket
    dirty = actions.add_customer_message(ticket=ticket, body_text="more", body_html=DIRTY)
    marked = actions.add_customer_message(ticket=ticket, body_text="more",
                                          body_html=actions.sanitise_html(DIRTY))
    assert Message.objects.get(pk=dirty.pk).body_html == Message.objects.get(pk=marked.pk).body_html
    assert "script" not in Message.objects.get(pk=dirty.pk).body_html
