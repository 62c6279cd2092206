import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from supportdesk.accounts.testing import contact, login_for, make_agent, make_customer
from supportdesk.intake.service import InboundAttachment, InboundRequest, receive
from supportdesk.tickets import access, actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    """owner: Acme's point of contact who opened the ticket; teammate: another Acme
    contact; outsider: Globex's point of contact; specialist: on the team."""
    settings.MEDIA_ROOT = tmp_path
    make_customer(contacts=[("ana@acme.example", "Ana", True), ("bob@acme.example", "Bob", False)])
    make_customer(slug="globex", name="Globex", domains=["globex.example"],
                  contacts=[("gil@globex.example", "Gil", True)])
    specialist = make_agent()
    ticket = receive(InboundRequest(
        channel="portal", contact=contact("ana@acme.example"), subject="Slow",
        attachments=[InboundAttachment("log.txt", b"log")],
    )).ticket
    note = actions.add_internal_note(ticket=ticket, author=specialist, body_text="customer is on v1",
                                     attachments=[InboundAttachment("secret.txt", b"s")])
    return {
        "ticket": ticket,
        "note": note,
        "owner": login_for("ana@acme.example"),
        "teammate": login_for("bob@acme.example"),
        "outsider": login_for("gil@globex.example"),
        "specialist": specialist,
    }


def test_the_owner_and_their_teammate_see_their_accounts_ticket(world):
    for persona in ("owner", "teammate", "specialist"):
        assert access.get_ticket_for_user(world[persona], number=world["ticket"].number) == world["ticket"]


def test_an_outsider_cannot_get_another_customers_ticket(world):
    with pytest.raises(Http404):
        access.get_ticket_for_user(world["outsider"], number=world["ticket"].number)
    assert not access.tickets_visible_to(world["outsider"]).exists()


def test_an_anonymous_visitor_gets_no_ticket(world):
    with pytest.raises(Http404):
        access.get_ticket_for_user(AnonymousUser(), number=world["ticket"].number)
    assert not access.tickets_visible_to(AnonymousUser()).exists()


def test_a_missing_number_looks_like_a_refusal(world):
    with pytest.raises(Http404):
        access.get_ticket_for_user(world["specialist"], number=999999)


def test_only_the_team_gets_a_ticket_for_team_work(world):
    number = world["ticket"].number
    assert access.get_ticket_for_agent(world["specialist"], number=number) == world["ticket"]
    for persona in ("owner", "teammate", "outsider"):
        with pytest.raises(Http404):
            access.get_ticket_for_agent(world[persona], number=number)


def test_customers_never_see_internal_notes(world):
    ticket = world["ticket"]
    kinds_for = {
        persona: list(access.messages_visible_to(world[persona], ticket=ticket).values_list("kind", flat=True))
        for persona in ("owner", "teammate", "specialist")
    }
    assert kinds_for == {"owner": ["customer"], "teammate": ["customer"], "specialist": ["customer", "note"]}


def test_an_outsider_cannot_list_another_customers_messages(world):
    with pytest.raises(Http404):
        access.messages_visible_to(world["outsider"], ticket=world["ticket"])


def test_attachments_follow_their_ticket_and_notes_stay_internal(world):
    public = world["ticket"].messages.get(kind="customer").attachments.get()
    internal = world["note"].attachments.get()
    assert access.get_attachment_for_user(world["owner"], attachment_id=public.pk) == public
    assert access.get_attachment_for_user(world["specialist"], attachment_id=internal.pk) == internal
    with pytest.raises(Http404):
        access.get_attachment_for_user(world["owner"], attachment_id=internal.pk)
    with pytest.raises(Http404):
        access.get_attachment_for_user(world["outsider"], attachment_id=public.pk)
