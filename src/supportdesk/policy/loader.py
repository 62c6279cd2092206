"""Loading and validating a policy file (TOML; the format is described in docs/policy.md).

Every mistake becomes one line `FILE:LINE: what is wrong and what is expected`, and all
of them are reported together in one PolicyError.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from supportdesk.policy.calendar_loader import read_calendars
from supportdesk.policy.enums import AccountStatus, Channel, Severity, choices
from supportdesk.policy.errors import PolicyError
from supportdesk.policy.model import ChannelRule, Plan, Policy, StatusRule
from supportdesk.policy.reading import Reader, Table, dotted, suggest
from supportdesk.policy.targets import Target, parse_target
from supportdesk.policy.toml_lines import KeyLines

TOP_KEYS = ("version", "sla", "email", "calendars", "account_statuses", "channels", "plans")
PLAN_KEYS = (
    "name",
    "family",
    "sold_until",
    "availability",
    "channels",
    "coverage",
    "targets",
    "technical_account_manager",
    "account_manager",
    "max_points_of_contact",
)
_PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DEFAULT_POLICY = "default_policy.toml"


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; PolicyError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            f"{path}:1: cannot read the policy file ({exc}); expected a UTF-8 TOML file"
        ) from None
    return parse_policy(text, source=path)


@cache
def load_default_policy() -> Policy:
    """The packaged default policy (SPEC §1-§5), loaded once."""
    resource = resources.files("supportdesk.policy").joinpath(DEFAULT_POLICY)
    with resources.as_file(resource) as path:
        return load_policy(path)


def default_policy_path() -> Path:
    return Path(str(resources.files("supportdesk.policy").joinpath(DEFAULT_POLICY)))


def parse_policy(text: str, *, source: str | Path = "<policy>") -> Policy:
    file = str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(_syntax_problem(file, str(exc))) from None
    reader = Reader(file, KeyLines(text))
    policy = _read_policy(reader, data, Path(source) if isinstance(source, Path) else None)
    if reader.problems or policy is None:
        raise PolicyError(reader.problems)
    return policy


def _syntax_problem(file: str, message: str) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    line = match.group(1) if match else "1"
    what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    if "Illegal character '\\n'" in what:
        what += " (a string without its closing quote?)"
    return f"{file}:{line}: not valid TOML: {what}; expected TOML syntax (see docs/policy.md)"


def _read_policy(reader: Reader, data: Table, source: Path | None) -> Policy | None:
    reader.only(data, (), TOP_KEYS)
    version = reader.string(data, ("version",))
    calendars = read_calendars(reader, data)
    # references are checked against every declared id: a broken calendar or plan has
    # its own problem reported and must not make each reference to it a second one
    plans = _read_plans(reader, data, _declared(data, "calendars"))
    statuses = _read_statuses(reader, data, _declared(data, "plans"))
    channel_rules = _read_channels(reader, data)
    sla = reader.table(data, ("sla",), required=False) or {}
    reader.only(sla, ("sla",), ("warning_share", "default_severity"))
    warning_share = _warning_share(reader, sla)
    default_severity = _severity(reader, sla, ("sla", "default_severity"), Severity.MEDIUM)
    domains = _free_mail_domains(reader, data)
    if reader.problems or version is None:
        return None
    return Policy(  # read-only views: a loaded policy is shared by every thread
        version=version,
        calendars=MappingProxyType(calendars),
        plans=MappingProxyType(plans),
        statuses=MappingProxyType(statuses),
        channel_rules=MappingProxyType(channel_rules),
        default_severity=default_severity,
        free_mail_extra_domains=domains,
        warning_share=warning_share,
        source=source,
    )


def _declared(data: Table, section: str) -> list[str]:
    tables = data.get(section)
    return list(tables) if isinstance(tables, dict) else []


def _read_plans(reader: Reader, data: Table, calendars: list[str]) -> dict[str, Plan]:
    tables = reader.table(data, ("plans",))
    plans: dict[str, Plan] = {}
    for plan_id, table in (tables or {}).items():
        path = ("plans", plan_id)
        if not _PLAN_ID.match(plan_id):
            reader.problem(path, f'plan id "{plan_id}" must be lower-case letters, digits and "-"')
        if not isinstance(table, dict):
            reader.problem(path, f"plans.{plan_id} must be a table")
            continue
        plan = _read_plan(reader, plan_id, table, calendars)
        if plan is not None:
            plans[plan_id] = plan
    if tables is not None and not tables:
        reader.problem(("plans",), "no plans; expected at least one [plans.ID] table")
    return plans


def _read_plan(reader: Reader, plan_id: str, table: Table, calendars: list[str]) -> Plan | None:
    path = ("plans", plan_id)
    reader.only(table, path, PLAN_KEYS)
    name = reader.string(table, (*path, "name"))
    family = reader.string(table, (*path, "family"))
    sold_until = None
    if "sold_until" in table:
        sold_until = reader.a_date(table["sold_until"], (*path, "sold_until"), "sold_until")
    channels = _channels(reader, table, path)
    coverage = reader.string(table, (*path, "coverage"))
    if coverage is not None and coverage not in calendars:
        reader.problem(
            (*path, "coverage"),
            f'unknown calendar "{coverage}" in {dotted(path)}.coverage{suggest(coverage, calendars)}; '
            f"expected one of: {', '.join(calendars) or '(no calendars defined)'}",
        )
        coverage = None
    targets = _targets(reader, table, path)
    technical = reader.boolean(table, (*path, "technical_account_manager"), default=False)
    manager = reader.boolean(table, (*path, "account_manager"), default=True)
    cap = reader.positive_int(table, (*path, "max_points_of_contact"))
    availability = reader.string(table, (*path, "availability"), required=False) or ""
    if None in (name, family, channels, coverage, targets):
        return None
    assert name and family and channels is not None and coverage and targets is not None
    return Plan(
        id=plan_id,
        name=name,
        family=family,
        sold_until=sold_until,
        channels=channels,
        coverage=coverage,
        targets=MappingProxyType(targets),
        technical_account_manager=technical,
        account_manager=manager,
        max_points_of_contact=cap,
        availability=availability,
    )


def _channels(reader: Reader, table: Table, path: Sequence[str]) -> frozenset[Channel] | None:
    names = reader.string_list(table, (*path, "channels"))
    if names is None:
        return None
    unknown = [name for name in names if name not in Channel.__members__.values()]
    if unknown:
        reader.problem(
            (*path, "channels"),
            f'unknown channel "{unknown[0]}" in {dotted(path)}.channels; expected some of: {choices(Channel)}',
        )
        return None
    if not names:
        reader.problem(
            (*path, "channels"),
            f"{dotted(path)}.channels is empty; expected at least one of: {choices(Channel)}",
        )
        return None
    return frozenset(Channel(name) for name in names)


def _targets(reader: Reader, table: Table, path: Sequence[str]) -> dict[Severity, Target] | None:
    targets_path = (*path, "targets")
    targets = reader.table(table, targets_path)
    if targets is None:
        return None
    reader.only(targets, targets_path, [severity.value for severity in Severity])
    result: dict[Severity, Target] = {}
    for severity in Severity:
        if severity.value not in targets:
            reader.problem(
                targets_path,
                f'plan {path[-1]} has no target for severity "{severity}"; expected targets '
                "for all of: " + choices(Severity),
            )
            continue
        text = targets[severity.value]
        try:
            result[severity] = parse_target(str(text) if not isinstance(text, str) else text)
        except ValueError as exc:
            reader.problem((*targets_path, severity.value), f"{exc} (plan {path[-1]}, {severity})")
    return result if len(result) == len(Severity) else None


def _read_statuses(
    reader: Reader, data: Table, plans: list[str]
) -> dict[AccountStatus, StatusRule]:
    tables = reader.table(data, ("account_statuses",)) or {}
    reader.only(tables, ("account_statuses",), [status.value for status in AccountStatus])
    rules: dict[AccountStatus, StatusRule] = {}
    for status in AccountStatus:
        path = ("account_statuses", status.value)
        table = reader.table(tables, path) if "account_statuses" in data else None
        if table is None:
            continue
        reader.only(table, path, ("sla", "terms_of"))
        sla = reader.typed(table, (*path, "sla"), bool, "true or false", required=True)
        terms_of = reader.string(table, (*path, "terms_of"), required=False)
        if terms_of is not None and terms_of not in plans:
            reader.problem(
                (*path, "terms_of"),
                f'unknown plan "{terms_of}" in {dotted(path)}.terms_of{suggest(terms_of, plans)}; '
                f"expected one of: {', '.join(plans)}",
            )
        if sla is not None:
            rules[status] = StatusRule(status=status, sla=sla, terms_of=terms_of)
    return rules


def _read_channels(reader: Reader, data: Table) -> dict[Channel, ChannelRule]:
    tables = reader.table(data, ("channels",)) or {}
    reader.only(tables, ("channels",), [channel.value for channel in Channel])
    rules: dict[Channel, ChannelRule] = {}
    for channel in Channel:
        path = ("channels", channel.value)
        table = reader.table(tables, path) if "channels" in data else None
        if table is None:
            continue
        reader.only(table, path, ("severity",))
        value = reader.string(table, (*path, "severity"))
        if value == "requester":
            rules[channel] = ChannelRule(channel, None)
        elif value is not None:
            fixed = _severity(reader, table, (*path, "severity"), None)
            if fixed is not None:
                rules[channel] = ChannelRule(channel, fixed)
    return rules


def _severity(
    reader: Reader, table: Table, path: Sequence[str], default: Severity | None
) -> Severity:
    value = table.get(path[-1])
    if value is None:
        return default or Severity.MEDIUM
    try:
        return Severity(value)
    except ValueError:
        extra = ' or "requester"' if path[0] == "channels" else ""
        reader.problem(
            path,
            f'unknown severity "{value}" in {dotted(path)}; expected one of: {choices(Severity)}{extra}',
        )
        return default or Severity.MEDIUM


def _warning_share(reader: Reader, sla: Table) -> float:
    value = sla.get("warning_share", 0.75)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        reader.problem(
            ("sla", "warning_share"),
            f"sla.warning_share is {value!r}; expected a fraction between 0 and 1, e.g. 0.75",
        )
        return 0.75
    return float(value)


def _free_mail_domains(reader: Reader, data: Table) -> frozenset[str]:
    email = reader.table(data, ("email",), required=False) or {}
    reader.only(email, ("email",), ("free_mail_extra_domains",))
    path = ("email", "free_mail_extra_domains")
    domains = reader.string_list(email, path, required=False) or []
    bad = [domain for domain in domains if "@" in domain or "." not in domain.strip(".")]
    if bad:
        reader.problem(path, f'"{bad[0]}" is not a mail domain; expected names like "example.com"')
    return frozenset(domain.strip().lower() for domain in domains if domain not in bad)
