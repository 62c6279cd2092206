"""The portal's monthly SLA statement: for the account's own contacts only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from supportdesk import clock
from supportdesk.portal.views import contact_required
from supportdesk.sla import reports
from supportdesk.sla.views import _statement_response


@contact_required
def statement(request: HttpRequest, period: str = "") -> HttpResponse:
    # The account is always the signed-in contact's own: there is no account in the URL
    # to tamper with, so another account's statement cannot even be asked for.
    account = request.contact.account  # type: ignore[attr-defined]
    period = period or reports.month_of(clock.now()).label
    return _statement_response(request, account, period, base="sla/statement_portal.html")
