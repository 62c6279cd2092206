import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from supportdesk.accounts.models import Account, Contact, User
from supportdesk.accounts.selectors import effective_subscription
from supportdesk.tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 11, 3, 15, 0, tzinfo=UTC)


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", now="2025-11-03T15:00Z", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_demo_covers_every_plan_and_status_with_weeks_of_tickets_and_loads_once():
    output = run_demo()
    assert Account.objects.count() == 12
    effective = [effective_subscription(a, at=NOW) for a in Account.objects.all()]
    assert {e.plan for e in effective} == {
        "bronze", "pro", "silver", "gold", "enterprise", "standard", "plus", "mission-critical"
    }
    assert {e.status for e in effective} == {"active", "trial", "expired", "suspended"}
    tickets = Ticket.objects.all()
    assert tickets.count() >= 300
    assert (NOW - min(t.opened_at for t in tickets)).days >= 20
    assert tickets.filter(first_response_met=False).exists()  # some breached
    assert tickets.filter(first_response_met=True).exists()
    assert Message.objects.filter(kind="reply").exists() and Message.objects.filter(kind="note").exists()
    assert {"opened", "public_reply", "severity_changed", "assigned", "status_changed"} <= set(
        Event.objects.values_list("kind", flat=True)
    )
    assert not Event.objects.filter(at__gt=NOW).exists()  # nothing happens after "now"
    assert User.objects.filter(role="specialist").count() >= 3
    assert Contact.objects.filter(is_point_of_contact=True, user__isnull=False).exists()
    assert "marina@nimbus-logistics.example / demo-customer" in output
    assert "beatriz@nimbus-logistics.example / demo-customer" in output
    owner = Contact.objects.get(email="beatriz@nimbus-logistics.example")
    assert owner.is_account_owner and owner.user is not None and owner.account.slug == "nimbus"
    assert "supervisor@supportdesk.localhost / demo-supervisor" in output

    # Running it again changes nothing.
    counts = (Account.objects.count(), Ticket.objects.count(), Message.objects.count(), Event.objects.count())
    run_demo()
    assert counts == (
        Account.objects.count(), Ticket.objects.count(), Message.objects.count(), Event.objects.count()
    )
