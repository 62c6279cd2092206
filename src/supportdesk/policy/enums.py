"""The fixed vocabularies of the support policy: severities, channels, account statuses."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Channel(StrEnum):
    PORTAL = "portal"
    EMAIL = "email"
    HOTLINE = "hotline"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    TRIAL = "trial"
    EXPIRED = "expired"
    SUSPENDED = "suspended"


def choices(enum: type[StrEnum]) -> str:
    """'low, medium, high': the valid values, for error messages."""
    return ", ".join(member.value for member in enum)
