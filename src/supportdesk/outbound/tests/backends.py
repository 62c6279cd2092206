"""Email backends for tests: a relay that is down for a while, then delivers."""

from __future__ import annotations

import smtplib
from typing import Any

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Raises like an unreachable relay while `failures_left` > 0, then behaves like locmem."""

    failures_left = 0
    error: Exception = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def send_messages(self, messages: Any) -> int:
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise FlakyBackend.error
        return super().send_messages(messages)
