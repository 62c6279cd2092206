"""Console pages of the SLA runtime: live notifications, on-call pages and rota, reports.

Thin views: reads through `sla.selectors` / `sla.reports`, writes through `sla.oncall`
and the small services below. Every table of the reports has a CSV twin.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.accounts.models import Account, User
from supportdesk.console.decorators import agent_required
from supportdesk.sla import charts, oncall, reports, selectors
from supportdesk.sla import rota as rotas
from supportdesk.sla.models import Page, RotaOverride
from supportdesk.web.present import active_policy, sla_summary

LIVE_LIMIT = 50


# --- notifications ---------------------------------------------------------------------------


@agent_required
def notifications(request: HttpRequest) -> HttpResponse:
    return render(request, "sla/notifications.html", {
        "nav": "notifications",
        "items": selectors.notifications_for(request.user, limit=LIVE_LIMIT),
        "unread": selectors.unread_count(request.user),
    })


@agent_required
def notifications_live(request: HttpRequest) -> HttpResponse:
    """The list alone, polled by htmx every few seconds."""
    return render(request, "sla/_notification_list.html", {
        "items": selectors.notifications_for(request.user, limit=LIVE_LIMIT),
        "unread": selectors.unread_count(request.user),
    })


@agent_required
def notifications_count(request: HttpRequest) -> HttpResponse:
    """The unread count for the navigation badge (polled)."""
    return render(request, "sla/_unread_badge.html", {"unread": selectors.unread_count(request.user)})


@require_POST
@agent_required
def notifications_read(request: HttpRequest) -> HttpResponse:
    selectors.mark_read(request.user, now=clock.now(), notification_id=request.POST.get("id") or None)
    if request.headers.get("HX-Request"):
        return notifications_live(request)
    return redirect("sla:notifications")


# --- pages (on call) -------------------------------------------------------------------------


@agent_required
def page(request: HttpRequest, page_id: int) -> HttpResponse:
    found = get_object_or_404(Page.objects.select_related("ticket", "ticket__account", "acknowledged_by"), pk=page_id)
    return render(request, "sla/page.html", {
        "nav": "oncall",
        "page": found,
        "attempts": found.attempts.select_related("user").order_by("level"),
        "can_ack": found.outcome == "" and found.acknowledged_at is None,
    })


@require_POST
@agent_required
def acknowledge(request: HttpRequest, page_id: int) -> HttpResponse:
    found = get_object_or_404(Page, pk=page_id)
    try:
        oncall.acknowledge(page=found, user=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Page acknowledged: nobody else will be paged."))
    return redirect("sla:page", page_id=page_id)


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label=gettext_lazy("Specialist"))
    starts_at = forms.DateTimeField(label=gettext_lazy("From"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=gettext_lazy("Until"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            is_active=True, role__in=[User.Role.SPECIALIST, User.Role.SUPERVISOR]
        ).order_by("name", "email")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError(_("The override must end after it starts."))
        return data


@agent_required
def on_call(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    rota = rotas.active_rota()
    form = OverrideForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_supervisor:  # type: ignore[union-attr]
            raise Http404("supervisors only")
        if rota is None:
            messages.error(request, _("There is no rota yet; create one in the admin first."))
        elif form.is_valid():
            RotaOverride.objects.create(rota=rota, created_by=request.user, **form.cleaned_data)
            messages.success(request, _("Override added."))
            return redirect("sla:oncall")
    context: dict[str, Any] = {"nav": "oncall", "rota": rota, "form": form, "now": now}
    if rota is not None:
        context.update(
            current=rotas.on_call_at(rota, now),
            schedule=rotas.schedule(rota, start=now, weeks=8),
            overrides=RotaOverride.objects.filter(rota=rota, ends_at__gt=now).select_related("user"),
            members=rotas.members(rota),
            open_pages=Page.objects.filter(outcome="").select_related("ticket").order_by("-created_at")[:20],
        )
    return render(request, "sla/oncall.html", context)


# --- reports ---------------------------------------------------------------------------------


def _period(request: HttpRequest) -> reports.Period:
    text = request.GET.get("period", "")
    if not text:
        return reports.month_of(clock.now())
    try:
        return reports.parse_period(text)
    except ValueError as exc:
        raise Http404(str(exc)) from None


def _csv(name: str, header: list[str], body: list[list[Any]]) -> HttpResponse:
    response = HttpResponse(reports.csv_text(header, body), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@agent_required
def compliance(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    now = clock.now()
    found = reports.compliance(period, as_of=now, policy=active_policy())
    dimension = request.GET.get("table", "")
    if request.GET.get("format") == "csv":
        if dimension not in reports.DIMENSIONS and dimension != "total":
            raise Http404("unknown table")
        rows = [found.total] if dimension == "total" else found.by[dimension]
        header, body = reports.rows_table(rows, dimension)
        return _csv(f"sla-compliance-{period.label}-by-{dimension}", header, body)
    tables = [
        {
            "dimension": name,
            "title": reports.DIMENSION_LABELS[name],
            "rows": found.by[name],
            "chart": charts.compliance_bars(found.by[name][:15], title=f"SLA compliance by {name}"),
            "times": charts.time_bars(found.by[name][:15], title=f"First-response time by {name}"),
        }
        for name in reports.DIMENSIONS
    ]
    return render(request, "sla/compliance.html", {
        "nav": "reports", "report": found, "period": period, "tables": tables,
        "previous": _shift_month(period, -1), "next": _shift_month(period, 1),
        "breaches": reports.breaches(period, as_of=now, policy=active_policy(), limit=20),
    })


def _shift_month(period: reports.Period, step: int) -> str:
    local = period.start.astimezone(period.zone)
    index = local.year * 12 + local.month - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@agent_required
def breaches(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    found = reports.breaches(period, as_of=clock.now(), policy=active_policy())
    if request.GET.get("format") == "csv":
        header, body = reports.breaches_table(found)
        return _csv(f"sla-breaches-{period.label}", header, body)
    return render(request, "sla/breaches.html", {"nav": "reports", "period": period, "breaches": found})


@agent_required
def statements(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    accounts = Account.objects.order_by("name")
    return render(request, "sla/statements.html", {"nav": "reports", "period": period, "accounts": accounts})


@agent_required
def statement(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    account = get_object_or_404(Account, slug=slug)
    return _statement_response(request, account, period, base="sla/statement_console.html")


def _statement_response(request: HttpRequest, account: Account, period_text: str, *, base: str) -> HttpResponse:
    try:
        period = reports.parse_period(period_text)
    except ValueError as exc:
        raise Http404(str(exc)) from None
    found = reports.statement(account, period, as_of=clock.now(), policy=active_policy())
    if request.GET.get("format") == "csv":
        header, body = reports.statement_table(found)
        return _csv(f"sla-statement-{account.slug}-{period.label}", header, body)
    policy = active_policy()
    return render(request, base, {
        "nav": "statement" if base.startswith("sla/statement_portal") else "reports",
        "statement": found, "period": period, "account": account,
        "lines": [(line, sla_summary(line.ticket, policy)) for line in found.lines],
        "previous": _shift_month(period, -1), "next": _shift_month(period, 1),
        "print": request.GET.get("print") == "1",
    })

