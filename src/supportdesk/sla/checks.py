"""System checks for the SLA settings: a wrong zone stops the process with a clear message."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_report_time_zone(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    name = settings.SUPPORTDESK_REPORT_TIME_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Error(
                f"SUPPORTDESK_REPORT_TIME_ZONE={name!r} is not a time zone",
                hint="use an IANA zone name, e.g. America/Sao_Paulo",
                id="sla.E001",
            )
        ]
    return []
