"""The one place product code reads the current time.

Operations call `now()` once and pass the instant down, so a whole operation sees one
moment. Tests move time with `time-machine`, which this respects.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)
