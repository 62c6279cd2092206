"""What each severity means, as SPEC §3 publishes it: shown wherever someone chooses one.

One place for the texts (translated with the rest of the UI). If a policy file carries
its own descriptions, `severity_guide()` is where they would be preferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class SeverityGuide:
    value: str
    label: Promise
    impact: Promise
    examples: Promise


SEVERITY_GUIDE = (
    SeverityGuide(
        "high",
        _("High"),
        _(
            "Critical: business operations stopped, or many users cannot work, "
            "no workaround."
        ),
        _(
            "System down, data loss or corruption, crashes, critical function unavailable, "
            "severe performance problems."
        ),
    ),
    SeverityGuide(
        "medium",
        _("Medium"),
        _(
            "Normal: partial or non-critical loss of function on a production system, "
            "few users affected."
        ),
        _("Some functions unavailable, inconsistent or degraded performance."),
    ),
    SeverityGuide(
        "low",
        _("Low"),
        _(
            "Minimal: non-production system, or a question, comment, feature request, "
            "documentation issue."
        ),
        _("Product questions, minor bugs."),
    ),
)


def severity_guide() -> tuple[SeverityGuide, ...]:
    return SEVERITY_GUIDE
