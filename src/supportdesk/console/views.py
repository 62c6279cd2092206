"""The agent console: queues, one ticket and its actions, the hotline, the policy.

Thin views: forms -> tickets.actions / intake; reads through console.selectors and the
access getters. Supervisors' pages live in console/admin_views.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.accounts.models import Account, Contact, User
from supportdesk.console import selectors
from supportdesk.console.decorators import agent_required
from supportdesk.console.forms import (
    AssignForm,
    LogCallForm,
    MoveForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    SeverityForm,
    StatusForm,
)
from supportdesk.intake.hotline.calls import log_call as record_call
from supportdesk.tickets import actions
from supportdesk.tickets.access import get_ticket_for_agent
from supportdesk.web.present import active_policy, plan_name, sla_summary
from supportdesk.web.templatetags.desk import when_text
from supportdesk.web.uploads import to_new_attachments


@agent_required
def queue(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    name = request.GET.get("queue", "customer")
    if name not in selectors.QUEUES:
        name = "customer"
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.Filters(
        account=(data.get("account") or "").strip(),
        requester=(data.get("requester") or "").strip(),
        number=data.get("number"),
        text=(data.get("text") or "").strip(),
    )
    result = selectors.queue_page(
        request.user, queue=name, filters=filters, page=request.GET.get("page"), now=now
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/queue.html",
        {
            "nav": "queues",
            "queue": name,
            "queues": selectors.QUEUES,
            "counts": selectors.queue_counts(request.user, now=now),
            "result": result,
            "page": result.page,
            "form": form,
            "query": query.urlencode(),
            "filters": filters,
        },
    )


def _ticket_page(request: HttpRequest, ticket: Any, **forms: Any) -> HttpResponse:
    now = clock.now()
    view = selectors.ticket_view(request.user, ticket=ticket, now=now)
    context = {
        "nav": "queues",
        "ticket": ticket,
        "view": view,
        "conversation": view.conversation,
        "show_html": True,
        "summary": sla_summary(ticket),
        "plan": plan_name(ticket.sla_plan),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "note_form": forms.get("note_form") or NoteForm(),
        "severity_form": forms.get("severity_form") or SeverityForm(initial={"severity": ticket.severity}),
        "assign_form": AssignForm(
            initial={"assignee": str(ticket.assignee_id or "")}, specialists=view.specialists
        ),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": ticket.status}),
        "move_form": forms.get("move_form")
        or MoveForm(accounts=selectors.accounts_for_choice())
        if ticket.queue in ("unidentified", "review")
        else None,
    }
    return render(request, "console/ticket.html", context, status=400 if forms else 200)


@agent_required
def ticket(request: HttpRequest, number: int) -> HttpResponse:
    return _ticket_page(request, get_ticket_for_agent(request.user, number=number))


def _act(request: HttpRequest, ticket: Any, form_name: str, form: Any, do: Any, done: str) -> HttpResponse:
    """Run an action for a valid form; show the form's or the action's errors otherwise."""
    if form.is_valid():
        try:
            do(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, "; ".join(error.messages))
        else:
            messages.success(request, done)
            return redirect("console:ticket", number=ticket.number)
    return _ticket_page(request, ticket, **{form_name: form})


@require_POST
@agent_required
def reply(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    form = ReplyForm(request.POST, request.FILES)

    def do(data: dict[str, Any]) -> None:
        message = actions.add_public_reply(
            ticket=ticket,
            author=request.user,
            body_text=data["body"],
            attachments=to_new_attachments(data["attachments"]),
            status=data["status"] or None,
        )
        updated = message.ticket
        if ticket.first_responded_at is None and updated.first_response_met is not None:
            note = _("First response recorded: within the SLA.") if updated.first_response_met else _(
                "First response recorded: after the due time."
            )
            messages.info(request, note)

    return _act(request, ticket, "reply_form", form, do, _("Reply sent to the customer."))


@require_POST
@agent_required
def note(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    form = NoteForm(request.POST, request.FILES)
    return _act(
        request, ticket, "note_form", form,
        lambda data: actions.add_internal_note(
            ticket=ticket, author=request.user, body_text=data["body"],
            attachments=to_new_attachments(data["attachments"]),
        ),
        _("Internal note added."),
    )


@require_POST
@agent_required
def severity(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    form = SeverityForm(request.POST)

    def do(data: dict[str, Any]) -> None:
        updated = actions.change_severity(
            ticket=ticket, severity=data["severity"], reason=data["reason"], actor=request.user
        )
        if updated.first_response_due and updated.first_response_due != ticket.first_response_due:
            messages.info(
                request,
                _("First response now due by %(when)s.") % {"when": when_text(updated.first_response_due)},
            )

    return _act(request, ticket, "severity_form", form, do, _("Severity changed."))


@require_POST
@agent_required
def assign(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    assignee_id = request.POST.get("assignee") or ""
    if assignee_id == "me":
        assignee: User | None = request.user  # type: ignore[assignment]
    elif assignee_id:
        assignee = User.objects.filter(pk=assignee_id if assignee_id.isdigit() else 0).first()
        if assignee is None:
            messages.error(request, _("No such specialist."))
            return redirect("console:ticket", number=ticket.number)
    else:
        assignee = None
    try:
        actions.assign(ticket=ticket, assignee=assignee, actor=request.user)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(
            request,
            _("Assigned to %(name)s.") % {"name": assignee.get_full_name()} if assignee else _("Unassigned."),
        )
    return redirect("console:ticket", number=ticket.number)


@require_POST
@agent_required
def status(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    form = StatusForm(request.POST)
    return _act(
        request, ticket, "status_form", form,
        lambda data: actions.change_status(
            ticket=ticket, status=data["status"], reason=data["reason"], actor=request.user
        ),
        _("Status changed."),
    )


@require_POST
@agent_required
def move(request: HttpRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.user, number=number)
    form = MoveForm(request.POST, accounts=selectors.accounts_for_choice())

    def do(data: dict[str, Any]) -> None:
        account = Account.objects.get(slug=data["account"])
        requester = None
        if data["requester"]:
            requester = Contact.objects.filter(account=account, email=data["requester"].lower()).first()
            if requester is None:
                raise ValidationError(
                    _("%(email)s is not a contact of %(account)s.")
                    % {"email": data["requester"], "account": account.name}
                )
        actions.move_to_account(
            ticket=ticket, account=account, actor=request.user, requester=requester,
            reason=data["reason"],
        )

    return _act(request, ticket, "move_form", form, do, _("Ticket moved to the account's queue."))


@agent_required
def log_call(request: HttpRequest) -> HttpResponse:
    form = LogCallForm(request.POST or None)
    logged = None
    if request.method == "POST" and form.is_valid():
        logged = record_call(
            phone=form.cleaned_data["phone"],
            caller_name=form.cleaned_data["caller_name"],
            subject=form.cleaned_data["subject"],
            notes=form.cleaned_data["notes"],
            specialist=request.user,  # type: ignore[arg-type]
        )
        form = LogCallForm()
    return render(
        request,
        "console/log_call.html",
        {"nav": "hotline", "form": form, "logged": logged},
        status=400 if form.errors else 200,
    )


@agent_required
def policy(request: HttpRequest) -> HttpResponse:
    current = active_policy()
    severities = ("low", "medium", "high")
    rows = [
        {
            "plan": plan,
            "channels": [c.value for c in plan.channel_list()],
            "targets": [plan.target(s).text for s in severities],
        }
        for plan in current.plans.values()
    ]
    return render(
        request,
        "console/policy.html",
        {
            "nav": "policy",
            "policy": current,
            "rows": rows,
            "calendars": list(current.calendars.values()),
            "statuses": list(current.statuses.values()),
            "channel_rules": list(current.channel_rules.values()),
        },
    )
