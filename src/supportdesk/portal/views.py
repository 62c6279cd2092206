"""The Desk Portal: thin views over intake.receive, tickets.actions and selectors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.intake.service import Action, InboundRequest, receive
from supportdesk.portal import selectors
from supportdesk.portal.forms import NewTicketForm, ReplyForm
from supportdesk.portal.promises import promise_after_opening
from supportdesk.tickets import actions
from supportdesk.tickets.access import get_ticket_for_user
from supportdesk.web.severities import severity_guide
from supportdesk.web.uploads import to_new_attachments


def contact_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Portal pages are for customers' contacts; staff are sent to the console."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_agent:  # type: ignore[union-attr]
            return redirect("console:queue")
        if getattr(request, "contact", None) is None:
            raise Http404("no contact")
        return view(request, *args, **kwargs)

    return wrapper


@contact_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]
    status = request.GET.get("status", "")
    page = selectors.account_ticket_page(request.user, page=request.GET.get("page"), status=status)
    return render(
        request,
        "portal/ticket_list.html",
        {
            "nav": "tickets",
            "page": page,
            "status": status,
            "contact": contact,
            "terms": selectors.account_terms(contact.account, now=clock.now()),
        },
    )


@contact_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]
    now = clock.now()
    context: dict[str, Any] = {
        "nav": "new",
        "contact": contact,
        "terms": selectors.account_terms(contact.account, now=now),
        "guide": severity_guide(),
    }
    if not contact.is_point_of_contact:
        context["ask"] = selectors.points_of_contact_and_owners(contact.account)
        return render(request, "portal/not_point_of_contact.html", context, status=403)
    form = NewTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        result = receive(
            InboundRequest(
                channel="portal",
                subject=form.cleaned_data["subject"],
                body_text=form.cleaned_data["description"],
                contact=contact,
                requested_severity=form.cleaned_data["severity"],
                attachments=to_new_attachments(form.cleaned_data["attachments"]),
                sender_email=contact.email,
                sender_name=contact.name,
            ),
            now=now,
        )
        if result.action == Action.CREATED and result.ticket is not None:
            messages.success(request, promise_after_opening(result.ticket, contact.account))
            return redirect("portal:ticket", number=result.ticket.number)
        form.add_error(None, result.refusal or _("The ticket could not be opened."))
    context["form"] = form
    return render(request, "portal/new_ticket.html", context, status=400 if form.errors else 200)


@contact_required
def ticket_detail(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_user(request.user, number=number)
    return _detail(request, ticket, ReplyForm())


def _detail(request: HttpRequest, ticket: Any, form: ReplyForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "portal/ticket_detail.html",
        {
            "nav": "tickets",
            "ticket": ticket,
            "conversation": selectors.public_conversation(request.user, ticket=ticket),
            "form": form,
        },
        status=status,
    )


@require_POST
@contact_required
def reply(request: HttpRequest, number: int) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]
    ticket = get_ticket_for_user(request.user, number=number)
    form = ReplyForm(request.POST, request.FILES)
    if ticket.status == "closed":
        messages.error(request, _("This ticket is closed. Please open a new ticket."))
        return redirect("portal:ticket", number=ticket.number)
    if not form.is_valid():
        return _detail(request, ticket, form, status=400)
    try:
        actions.add_customer_message(
            ticket=ticket,
            body_text=form.cleaned_data["body"],
            author_contact=contact,
            author_user=request.user,
            author_email=contact.email,
            author_name=contact.name,
            attachments=to_new_attachments(form.cleaned_data["attachments"]),
        )
    except ValidationError as error:
        form.add_error(None, "; ".join(error.messages))
        return _detail(request, ticket, form, status=400)
    messages.success(request, _("Your reply was added to ticket #%(n)s.") % {"n": ticket.number})
    return redirect("portal:ticket", number=ticket.number)
