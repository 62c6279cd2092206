"""Pages every role shares: the front door, sign-in/out, password reset, invitation,
preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.accounts.models import User
from supportdesk.web import throttle
from supportdesk.web.forms import PreferencesForm, SignInForm
from supportdesk.web.invitations import send_password_reset
from supportdesk.web.models import Preference
from supportdesk.web.zones import SESSION_KEY


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("web:signin")
    if user.is_agent:  # type: ignore[union-attr]
        return redirect("console:queue")
    return redirect("portal:tickets")


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("web:home")
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        now = clock.now()
        email = form.cleaned_data["email"]
        ip = throttle.client_ip(request)
        if throttle.is_throttled(email=email, ip=ip, now=now):
            error = _(
                "Too many sign-in attempts. Wait 15 minutes, or reset your password."
            )
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is None:
                throttle.record_failure(email=email, ip=ip, now=now)
                error = _("That email and password do not match an account that may sign in.")
            else:
                throttle.clear_failures(email=email)
                login(request, user)
                zone = Preference.objects.filter(user=user).values_list("time_zone", flat=True)
                request.session[SESSION_KEY] = zone[0] if zone else ""
                return HttpResponseRedirect(_safe_next(request) or "/")
    status = 400 if error else 200
    return render(
        request,
        "web/signin.html",
        {"form": form, "error": error, "next": _safe_next(request) or ""},
        status=status,
    )


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("web:signin")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    current = Preference.objects.filter(user=request.user).first()
    form = PreferencesForm(
        request.POST or None, initial={"time_zone": current.time_zone if current else ""}
    )
    if request.method == "POST" and form.is_valid():
        zone = form.cleaned_data["time_zone"]
        Preference.objects.update_or_create(user=request.user, defaults={"time_zone": zone})
        request.session[SESSION_KEY] = zone
        messages.success(request, _("Your preferences are saved."))
        return redirect("web:preferences")
    return render(request, "web/preferences.html", {"form": form})


class ResetForm(auth_views.PasswordResetForm):
    """Django's reset form, but sending through our mail helper after commit, and also to
    invited people who never chose a password (their invitation may have expired)."""

    def get_users(self, email: str):  # type: ignore[no-untyped-def, override]
        return User.objects.filter(email__iexact=email.strip(), is_active=True)

    def save(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        for user in self.get_users(self.cleaned_data["email"]):
            send_password_reset(user)


password_reset = auth_views.PasswordResetView.as_view(
    form_class=ResetForm,
    template_name="web/password_reset.html",
    success_url=reverse_lazy("web:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="web/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="web/password_set.html",
    success_url=reverse_lazy("web:password_reset_complete"),
    extra_context={"heading": gettext_lazy("Choose a new password")},
)
invitation = auth_views.PasswordResetConfirmView.as_view(
    template_name="web/password_set.html",
    success_url=reverse_lazy("web:password_reset_complete"),
    extra_context={"heading": gettext_lazy("Welcome: choose your password")},
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="web/password_reset_complete.html"
)


def attachment(request: HttpRequest, attachment_id: int, name: str) -> HttpResponse:
    """A ticket's file, always as a download, only to those who may see the ticket
    (and, for customers, never a file of an internal note): 404 for everyone else."""
    from django.http import FileResponse

    from supportdesk.tickets.access import get_attachment_for_user

    found = get_attachment_for_user(request.user, attachment_id=attachment_id)
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.original_name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
