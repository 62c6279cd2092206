from __future__ import annotations

from datetime import UTC, datetime

import pytest

# Monday 30 November 2026, 09:00 BRT.
MONDAY_9_BRT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def open_email_ticket():
    """Open a ticket the way the email channel does (the real intake service)."""
    from supportdesk.intake.service import InboundRequest, receive

    def open_it(
        sender="ana@acme.example",
        *,
        subject="Printer on fire",
        name="Ana",
        message_id="<CAF-1@mail.acme.example>",
        now=MONDAY_9_BRT,
    ):
        result = receive(
            InboundRequest(
                channel="email",
                subject=subject,
                body_text="It is on fire.",
                sender_email=sender,
                sender_name=name,
                message_id=message_id,
            ),
            now=now,
        )
        return result.ticket

    return open_it
