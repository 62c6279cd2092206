"""Sign-in throttling against password guessing.

Failures are counted per address typed and per client IP over a sliding window. The
answer never depends on whether the address belongs to anyone: an unknown address is
throttled exactly like a known one, and while throttled even the right password is
refused (otherwise guessing could go on and only the successes would get through).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest

from supportdesk.web.models import SignInFailure

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a proxy we trust set it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def is_throttled(*, email: str, ip: str, now: datetime) -> bool:
    since = now - WINDOW
    recent = SignInFailure.objects.filter(at__gte=since)
    if recent.filter(email=email.strip().lower()).count() >= MAX_FAILURES_PER_EMAIL:
        return True
    return recent.filter(ip=ip).count() >= MAX_FAILURES_PER_IP


def record_failure(*, email: str, ip: str, now: datetime) -> None:
    SignInFailure.objects.create(email=email.strip().lower()[:254], ip=ip, at=now)
    # Keep the table small: anything older than the window no longer counts.
    SignInFailure.objects.filter(at__lt=now - WINDOW).delete()


def clear_failures(*, email: str) -> None:
    SignInFailure.objects.filter(email=email.strip().lower()).delete()
