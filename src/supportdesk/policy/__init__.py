"""The support-policy engine: plans, coverage calendars, business time, the SLA matrix.

Pure Python (no Django). Load a policy with `load_policy(path)` or
`load_default_policy()`, then ask `decide_sla(...)` for a ticket's first-response due
time, or use the business-time functions directly on a `Calendar`.
"""

from supportdesk.policy.batch import deadlines_after, deadlines_after_epoch
from supportdesk.policy.business_time import (
    business_time_between,
    deadline_after,
    deadline_before,
    working_intervals,
)
from supportdesk.policy.calendar import Calendar, HolidaySet
from supportdesk.policy.enums import AccountStatus, Channel, Severity
from supportdesk.policy.errors import PolicyError, UnknownPlanError
from supportdesk.policy.loader import (
    default_policy_path,
    load_default_policy,
    load_policy,
    parse_policy,
)
from supportdesk.policy.model import ChannelRule, Plan, Policy, StatusRule
from supportdesk.policy.sla import SlaDecision, decide_sla
from supportdesk.policy.targets import Budget, BusinessDays, Target, parse_target

__all__ = [
    "AccountStatus",
    "Budget",
    "BusinessDays",
    "Calendar",
    "Channel",
    "ChannelRule",
    "HolidaySet",
    "Plan",
    "Policy",
    "PolicyError",
    "Severity",
    "SlaDecision",
    "StatusRule",
    "Target",
    "UnknownPlanError",
    "business_time_between",
    "deadline_after",
    "deadline_before",
    "deadlines_after",
    "deadlines_after_epoch",
    "decide_sla",
    "default_policy_path",
    "load_default_policy",
    "load_policy",
    "parse_policy",
    "parse_target",
    "working_intervals",
]
