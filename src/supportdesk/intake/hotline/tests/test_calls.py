from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from supportdesk.accounts.testing import make_agent, make_customer
from supportdesk.intake.hotline.calls import log_call

pytestmark = pytest.mark.django_db

SATURDAY_3AM = datetime(2025, 3, 15, 6, 0, tzinfo=UTC)


def test_it_opens_a_high_ticket_for_a_known_caller_on_a_plan_with_hotline():
    make_customer(plan="plus", starts=date(2025, 1, 1), contacts=(("ana@acme.example", "Ana", True),),
                  phones={"ana@acme.example": "+5511912345678"})
    call = log_call(phone="(11) 91234-5678", notes="DB down", specialist=make_agent(), now=SATURDAY_3AM)
    assert call.has_sla and call.identified
    assert call.ticket.severity == "high"
    assert call.ticket.first_response_due == SATURDAY_3AM + timedelta(hours=2)  # Plus High, 24x7
    assert call.ticket.requester.email == "ana@acme.example"


def test_it_records_an_unknown_callers_call_without_sla_and_says_why():
    call = log_call(phone="+55 21 99999-0000", notes="Hello?", specialist=make_agent(), now=SATURDAY_3AM)
    assert not call.has_sla and not call.identified
    assert call.ticket.queue == "unidentified"
    assert "+5521999990000 is not the phone number of any contact" in call.why


def test_it_records_a_call_on_a_plan_without_hotline_without_sla():
    make_customer(plan="standard", starts=date(2025, 1, 1), contacts=(("ana@acme.example", "Ana", True),),
                  phones={"ana@acme.example": "+5511912345678"})
    call = log_call(phone="+5511912345678", notes="Urgent", specialist=make_agent(), now=SATURDAY_3AM)
    assert not call.has_sla and call.identified
    assert "does not include the hotline" in call.why and "Support Standard" in call.why


def test_it_keeps_an_invalid_number_as_typed():
    call = log_call(phone="12", notes="Bad line", specialist=make_agent(), now=SATURDAY_3AM)
    assert call.ticket.requester_phone == "12" and not call.has_sla
