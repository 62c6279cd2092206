"""First-response targets as written in a policy: "30 min", "2 h", "1 business day"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

_TARGET = re.compile(
    r"^\s*(?P<amount>\d+)\s*(?P<unit>min|mins|minutes?|h|hours?|business\s+days?)\s*$",
    re.IGNORECASE,
)
TARGET_EXAMPLES = '"30 min", "2 h" or "1 business day"'


@dataclass(frozen=True)
class BusinessDays:
    """A budget of whole business days, counted on a calendar's business-day calendar."""

    days: int

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"a number of business days cannot be negative ({self.days})")


Budget = timedelta | BusinessDays


@dataclass(frozen=True)
class Target:
    """One cell of the SLA matrix: the text as written and the budget it means."""

    text: str
    budget: Budget

    @property
    def is_business_days(self) -> bool:
        return isinstance(self.budget, BusinessDays)


@lru_cache(maxsize=256)
def parse_target(text: str) -> Target:
    """Read a target; ValueError with the accepted forms when it is not one. (Cached:
    every ticket's SLA reads its target again, and a policy has a handful.)"""
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(f"target {text!r} is not a duration; expected e.g. {TARGET_EXAMPLES}")
    amount = int(match["amount"])
    unit = match["unit"].lower()
    budget: Budget
    if unit.startswith("business"):
        budget = BusinessDays(amount)
    elif unit.startswith("h"):
        budget = timedelta(hours=amount)
    else:
        budget = timedelta(minutes=amount)
    return Target(text=" ".join(text.split()), budget=budget)
