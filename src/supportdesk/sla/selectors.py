"""Reads for the SLA pages (notifications) and its small writes (marking them read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.sla.models import Notification


def notifications_for(user: Any, *, limit: int = 50) -> list[Notification]:
    """The person's latest notifications, newest first (one query)."""
    return list(
        Notification.objects.filter(recipient=user)
        .select_related("ticket", "notice", "page")
        .order_by("-created_at", "-id")[:limit]
    )


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: Any, *, now: datetime, notification_id: str | None = None) -> int:
    """Mark one (or every) unread notification of the person as read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        if not str(notification_id).isdigit():
            return 0
        unread = unread.filter(pk=int(notification_id))
    return unread.update(read_at=now)
