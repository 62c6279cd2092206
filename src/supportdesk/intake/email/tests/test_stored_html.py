"""The HTML a ticket keeps of a mail: the email channel's sanitising, then the ticket
core's, whichever process did the sanitising."""

from __future__ import annotations

import pytest

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.bulk import ingest_many
from supportdesk.intake.email.mime import parse_mail
from supportdesk.intake.email.store import RawMail
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.tickets import actions
from supportdesk.tickets.models import Message

pytestmark = pytest.mark.django_db

HTML = (
    '<html><head><style>p{color:red}</style><title>t</title></head><body>'
    '<!-- a comment --><p onclick="x()" style="color:red">Hi<script>alert(1)</script></p>'
    '<p><a href="https://acme.example/docs" rel="nofollow" target="_blank">docs</a> '
    '<a href="mailto:ana@acme.example">mail</a> <a href="javascript:alert(1)">x</a></p>'
    '<img src="https://tracker.test/pixel.gif" alt="px"><img src="cid:logo@acme">'
    '<table><tr><td colspan="2" bgcolor="red">cell</td></tr></table>'
    '<p><b>bold <i>both</b> italic</i></p><form><input name="q"></form>'
    '<div dir="rtl" lang="ar">&lt;escaped&gt; &amp; more</div></body></html>'
)


def html_mail(subject: str = "Broken export", **kwargs) -> bytes:
    return make_mail(subject=subject, body=HTML,
                     extra="Content-Type: text/html; charset=utf-8", **kwargs).replace(
        b"Content-Type: text/plain; charset=utf-8\r\n", b"", 1
    )


def sanitised_twice(raw: bytes) -> str:
    """What storing the mail gave before: the channel's sanitiser in the parse, then the
    core's, on a plain string."""
    return actions.sanitise_html(str(parse_mail(raw).html))


@pytest.fixture
def acme():
    return make_customer(slug="acme", domains=["acme.example"], plan="gold",
                         contacts=[("ana@acme.example", "Ana", True)])


def test_a_new_ticket_keeps_the_html_sanitised_by_the_channel_then_the_core(acme):
    raw = html_mail()
    outcome = ingest(raw)
    stored = Message.objects.get(ticket__number=outcome.ticket).body_html
    assert stored == sanitised_twice(raw)
    assert 'rel="noopener noreferrer"' in stored and "nofollow" not in stored
    assert "script" not in stored and "tracker.test" not in stored and "onclick" not in stored


@pytest.mark.parametrize("parallel", [True, False])
def test_the_bulk_path_stores_the_same_html_as_one_mail_at_a_time(acme, parallel):
    first = ingest(html_mail(subject="First"))
    mails = [html_mail(subject="New"), html_mail(subject=f"Re: [#{first.ticket}] First"),
             html_mail(sender="x@gmail.com")]
    outcomes = []
    ingest_many([RawMail(raw=raw, route="maildir") for raw in mails],
                on_outcome=outcomes.append, parallel=parallel)
    assert [o.action for o in outcomes] == ["created", "appended", "created"]
    expected = sanitised_twice(mails[0])
    assert [sanitised_twice(raw) for raw in mails] == [expected] * 3
    stored = list(Message.objects.order_by("id").values_list("body_html", flat=True))
    assert stored == [expected] * 4


def test_the_parse_step_hands_the_core_html_it_need_not_clean_again_across_processes():
    import pickle

    from supportdesk.intake.email.process import parse_from_args

    parsed = pickle.loads(pickle.dumps(parse_from_args((html_mail(), "", (), None))))
    assert type(parsed.html) is actions.SanitisedHtml
    assert parsed.html == sanitised_twice(html_mail())
