"""Small records the web layer keeps for itself: sign-in failures and viewer preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from supportdesk import clock


class SignInFailure(models.Model):
    """One failed sign-in, kept for the throttle window.

    Stored in the database (not a per-process cache) so that every web process of a
    fleet counts the same failures.
    """

    email = models.CharField(max_length=254, db_index=True)  # as typed, lower-cased
    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(default=clock.now, db_index=True)

    def __str__(self) -> str:
        return f"failed sign-in for {self.email} from {self.ip} at {self.at.isoformat()}"


class Preference(models.Model):
    """What a signed-in person chose for how pages are shown to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_preference"
    )
    # An IANA zone name, e.g. "America/Sao_Paulo"; empty = follow the browser.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone or 'browser time zone'}"
