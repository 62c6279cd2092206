"""Middleware of the web layer: Content-Security-Policy, the viewer's time zone, and
ending the session of a person who may no longer sign in."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from supportdesk.web.zones import viewer_zone

# Strict: only our own files, no inline script or style, no eval, no plugins, no framing.
# htmx is configured (meta htmx-config in base.html) not to inject its inline indicator
# style and not to evaluate attributes, so it runs under this policy.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)
# The Django admin (supervisors only) renders a few inline styles and scripts of its own.
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'self'; object-src 'none'; base-uri 'none'"
)

Handler = Callable[[HttpRequest], HttpResponse]


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = (
                ADMIN_CONTENT_SECURITY_POLICY
                if request.path.startswith("/admin/")
                else CONTENT_SECURITY_POLICY
            )
            response["Content-Security-Policy"] = policy
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response


class ViewerTimeZoneMiddleware:
    """Activates the viewer's zone so templates render every time in it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(viewer_zone(request))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SignedInPersonMiddleware:
    """Ends the session of a customer contact who was removed or deactivated.

    Checked on every request (one indexed query), so removal takes effect at the
    contact's next click rather than when the session would expire. The contact found
    is kept on `request.contact` for the portal's views.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.contact = None  # type: ignore[attr-defined]
        user = request.user
        if not user.is_authenticated and AUTH_SESSION_KEY in request.session:
            # The session names someone who may no longer sign in (deactivated): end it.
            request.session.flush()
        if user.is_authenticated and user.is_customer:  # type: ignore[union-attr]
            from supportdesk.accounts.models import Contact, User

            contact = (
                Contact.objects.select_related("account", "account__account_manager")
                .filter(user=user, is_active=True)
                .first()
            )
            if contact is None:
                logout(request)
                return redirect("web:signin")
            # Prime user.contact so access getters (accounts.access.contact_of) reuse it.
            User.contact.related.set_cached_value(user._wrapped, contact)
            request.contact = contact  # type: ignore[attr-defined]
        return self.get_response(request)
