"""Which time zone a page is shown in.

Order of precedence (documented in docs/web.md):
1. the zone the person chose on their preferences page (stored in `web.Preference`,
   copied into the session at sign-in so pages need no extra query);
2. the zone their browser reports (`Intl.DateTimeFormat().resolvedOptions().timeZone`,
   sent by static/web/app.js in the `sd_tz` cookie);
3. `DEFAULT_VIEWER_TIME_ZONE`: the support team's own zone, where 12x5 coverage runs.
Every rendered time names the zone it is shown in, so a fallback can never mislead.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.http import HttpRequest

DEFAULT_VIEWER_TIME_ZONE = "America/Sao_Paulo"
SESSION_KEY = "sd_tz"
COOKIE_NAME = "sd_tz"


@lru_cache(maxsize=512)
def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone named `name`, or None when it is not a known IANA zone."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def available_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def viewer_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY, "") if session is not None else ""
    for name in (chosen, request.COOKIES.get(COOKIE_NAME, "")):
        zone = zone_or_none(name)
        if zone is not None:
            return zone
    return zoneinfo.ZoneInfo(DEFAULT_VIEWER_TIME_ZONE)
