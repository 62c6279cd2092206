"""The console's *Inbound mail*: every mail as received, what became of it, the original
for download, and "Process again" for mail that failed.

Thin views: reads through `intake.email.selectors` (team only, 404 for anyone else),
the one write through `intake.email.requeue`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.console.decorators import agent_required
from supportdesk.intake.email import selectors
from supportdesk.intake.email.requeue import NoSuchMail, requeue_mail

# What became of a mail, in the team's words: the status of a mail not processed, else
# its action.
STATES = {
    "stored": gettext_lazy("Waiting to be processed"),
    "failed": gettext_lazy("Failed"),
    "processed": gettext_lazy("Processed"),
    "created": gettext_lazy("Ticket opened"),
    "appended": gettext_lazy("Added to a ticket"),
    "duplicate": gettext_lazy("Duplicate"),
    "review": gettext_lazy("Filed for review"),
    "ignored": gettext_lazy("Ignored"),
}
SHOW_LABELS = {
    "all": gettext_lazy("All"),
    "attention": gettext_lazy("Needs attention"),
    "failed": gettext_lazy("Failed"),
    "review": gettext_lazy("Review"),
    "ignored": gettext_lazy("Ignored"),
    "duplicate": gettext_lazy("Duplicates"),
}


@agent_required
def mail_list(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    show = request.GET.get("show", "all")
    if show not in selectors.SHOWS:
        show = "all"
    result = selectors.mail_page(request.user, show=show, page=request.GET.get("page"), now=now)
    return render(
        request,
        "console/mail_list.html",
        {
            "nav": "mail",
            "show": show,
            "shows": [(name, SHOW_LABELS[name]) for name in selectors.SHOWS],
            "counts": selectors.mail_counts(request.user, now=now),
            "result": result,
            "page": result.page,
            "query": f"show={show}",
            "states": STATES,
        },
    )


@agent_required
def mail_detail(request: HttpRequest, mail_id: int) -> HttpResponse:
    detail = selectors.mail_detail(request.user, mail_id=mail_id, now=clock.now())
    return render(
        request,
        "console/mail.html",
        {"nav": "mail", "detail": detail, "mail": detail.mail, "states": STATES},
    )


@agent_required
def mail_original(request: HttpRequest, mail_id: int) -> HttpResponse:
    """The raw mail as a download, never rendered: it is untrusted (HTML, scripts)."""
    raw = selectors.original_of(request.user, mail_id=mail_id)
    response = HttpResponse(raw, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-mail-{mail_id}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@agent_required
def mail_process_again(request: HttpRequest, mail_id: int) -> HttpResponse:
    selectors.get_inbound_mail_for_agent(request.user, mail_id=mail_id)  # 404 for others
    try:
        result = requeue_mail(mail_id=mail_id, by=request.user, via="the console")  # type: ignore[arg-type]
    except NoSuchMail:
        messages.error(request, _("No such inbound mail."))
        return redirect("console:mail_list")
    outcome = result.outcome
    if result.failed_again:
        messages.error(request, _("Processing failed again: %(error)s") % {"error": result.error})
    elif not result.processed_here:
        messages.info(request, _("This mail had already been processed."))
    elif outcome.ticket is not None:
        messages.success(
            request,
            _("Processed again. Outcome: %(state)s, ticket #%(number)s.")
            % {"state": STATES.get(outcome.action, outcome.action), "number": outcome.ticket},
        )
    else:
        messages.success(
            request,
            _("Processed again. Outcome: %(state)s.") % {"state": STATES.get(outcome.action, outcome.action)},
        )
    return redirect("console:mail", mail_id=mail_id)
