"""The policy file: the default reproduces SPEC §1-§5; every mistake is one FILE:LINE line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from supportdesk.policy import (
    AccountStatus,
    BusinessDays,
    Channel,
    PolicyError,
    Severity,
    default_policy_path,
    load_default_policy,
    load_policy,
    parse_target,
)

# SPEC §1, row by row: id, name, family, sold until, channels, coverage, Low, Medium, High
SPEC_PLANS = [
    (
        "bronze",
        "Bronze",
        "legacy",
        date(2022, 7, 1),
        "portal email hotline",
        "24x7",
        "4 business days",
        "24 h",
        "2 h",
    ),
    (
        "pro",
        "Pro",
        "legacy",
        date(2022, 7, 1),
        "portal email hotline",
        "24x7",
        "4 business days",
        "24 h",
        "2 h",
    ),
    (
        "silver",
        "Silver",
        "legacy",
        date(2022, 7, 1),
        "portal email hotline",
        "24x7",
        "2 business days",
        "12 h",
        "1 h",
    ),
    (
        "gold",
        "Gold",
        "legacy",
        date(2022, 7, 1),
        "portal email hotline",
        "24x7",
        "1 business day",
        "6 h",
        "30 min",
    ),
    (
        "enterprise",
        "Enterprise",
        "legacy",
        date(2022, 7, 1),
        "portal email hotline",
        "24x7",
        "1 business day",
        "6 h",
        "30 min",
    ),
    (
        "standard",
        "Support Standard",
        "current",
        None,
        "portal",
        "12x5",
        "1 business day",
        "1 business day",
        "1 business day",
    ),
    ("plus", "Support Plus", "current", None, "portal email hotline", "24x7", "8 h", "4 h", "2 h"),
    (
        "mission-critical",
        "Mission Critical",
        "current",
        None,
        "portal email hotline",
        "24x7",
        "4 h",
        "2 h",
        "30 min",
    ),
]


def test_the_default_policy_reproduces_every_plan_and_cell_of_the_spec() -> None:
    policy = load_default_policy()
    assert list(policy.plans) == [row[0] for row in SPEC_PLANS]
    for plan_id, name, family, sold_until, channels, coverage, low, medium, high in SPEC_PLANS:
        plan = policy.plan(plan_id)
        assert (plan.name, plan.family, plan.sold_until, plan.coverage) == (
            name,
            family,
            sold_until,
            coverage,
        )
        assert plan.channels == frozenset(Channel(c) for c in channels.split())
        assert [plan.targets[s].text for s in Severity] == [low, medium, high]
        assert plan.account_manager is True
        assert plan.technical_account_manager is (plan_id == "mission-critical")
        assert plan.max_points_of_contact is None


def test_the_default_policy_states_the_spec_rules() -> None:
    policy = load_default_policy()
    assert (
        policy.status_rule(AccountStatus.ACTIVE).sla
        and policy.status_rule("active").terms_of is None
    )
    assert policy.status_rule("trial").terms_of == "standard"
    assert not policy.status_rule("expired").sla and not policy.status_rule("suspended").sla
    assert policy.channel_rule("email").severity is Severity.MEDIUM
    assert policy.channel_rule("hotline").severity is Severity.HIGH
    assert policy.channel_rule("portal").severity is None  # the requester chooses
    assert policy.warning_share == 0.75
    assert policy.default_severity is Severity.MEDIUM
    assert policy.free_mail_extra_domains == frozenset()
    assert policy.version


def test_the_default_clocks_are_those_of_the_spec() -> None:
    calendars = load_default_policy().calendars
    twelve, always = calendars["12x5"], calendars["24x7"]
    assert twelve.time_zone == always.time_zone == "America/Sao_Paulo"
    assert twelve.weekly_hours == ((((8 * 3600, 20 * 3600),),) * 5 + ((), ()))
    assert always.weekly_hours == (((0, 86_400),),) * 7
    assert twelve.business_day_calendar is twelve
    assert always.business_day_calendar.weekly_hours == (((0, 86_400),),) * 5 + ((), ())
    # "the default policy's calendars name none, so that the published numbers hold"
    assert all(c.holidays is None and not c.extra_holidays for c in calendars.values())


def test_legacy_plans_are_not_sold_from_2022_07_01() -> None:
    gold = load_default_policy().plan("gold")
    assert gold.is_sold_on(date(2022, 6, 30))
    assert not gold.is_sold_on(date(2022, 7, 1))
    assert load_default_policy().plan("plus").is_sold_on(date(2030, 1, 1))


def test_an_unknown_plan_id_names_the_valid_ones() -> None:
    with pytest.raises(KeyError):
        load_default_policy().plan("platinum")
    with pytest.raises(PolicyError) as caught:
        load_default_policy().plan("platinum")
    assert str(caught.value) == caught.value.problems[0]
    assert caught.value.problems == [
        "unknown plan 'platinum'; valid plans: bronze, pro, silver, gold, enterprise, "
        "standard, plus, mission-critical"
    ]


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("30 min", "0:30:00"),
        ("2 h", "2:00:00"),
        ("24h", "1 day, 0:00:00"),
        ("4 Business Days", "4"),
        ("1 business day", "1"),
        ("90 minutes", "1:30:00"),
        ("3 hours", "3:00:00"),
    ],
)
def test_targets_are_read_in_their_usual_spellings(text: str, budget: str) -> None:
    target = parse_target(text)
    shown = (
        str(target.budget.days) if isinstance(target.budget, BusinessDays) else str(target.budget)
    )
    assert shown == budget


# --- every mistake: one line FILE:LINE: what is wrong and what is expected ----------------


def broken_policy(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    """The default policy with one edit, written to a file: (file name, text)."""
    text = default_policy_path().read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path), text


def problems_of(file: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(file)
    return caught.value.problems


def line_of(text: str, snippet: str, *, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(snippet, start)].count("\n") + 1


def test_an_unknown_coverage_calendar_is_reported_at_its_line(tmp_path: Path) -> None:
    old = 'name = "Gold"\nfamily = "legacy"\nsold_until = 2022-07-01\nchannels = ["portal", "email", "hotline"]\ncoverage = "24x7"'
    file, text = broken_policy(tmp_path, old, old.replace('"24x7"', '"12x6"'))
    assert problems_of(file) == [
        f'{file}:{line_of(text, "12x6")}: unknown calendar "12x6" in plans.gold.coverage '
        '(did you mean "12x5"?); expected one of: 12x5, 24x7, business-days-brt'
    ]


def test_an_unknown_plan_in_an_account_status_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, 'terms_of = "standard"', 'terms_of = "standrd"')
    assert problems_of(file) == [
        f'{file}:{line_of(text, "standrd")}: unknown plan "standrd" in account_statuses.trial.terms_of '
        '(did you mean "standard"?); expected one of: bronze, pro, silver, gold, enterprise, '
        "standard, plus, mission-critical"
    ]


def test_a_target_that_is_not_a_duration_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(
        tmp_path, 'medium = "6 h", high = "30 min" }', 'medium = "6 h", high = "3 hourz" }'
    )
    assert problems_of(file) == [
        f"{file}:{line_of(text, '3 hourz')}: target '3 hourz' is not a duration; expected e.g. "
        '"30 min", "2 h" or "1 business day" (plan gold, high)'
    ]


def test_a_missing_severity_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(
        tmp_path,
        'targets = { low = "4 h", medium = "2 h", high = "30 min" }',
        'targets = { low = "4 h", medium = "2 h" }',
    )
    assert problems_of(file) == [
        f"{file}:{line_of(text, 'targets', after='[plans.mission-critical]')}: plan mission-critical has no "
        'target for severity "high"; expected targets for all of: low, medium, high'
    ]


def test_overlapping_intervals_are_reported(tmp_path: Path) -> None:
    file, text = broken_policy(
        tmp_path, 'mon = ["08:00-20:00"]', 'mon = ["08:00-12:00", "11:00-20:00"]'
    )
    assert problems_of(file) == [
        f'{file}:{line_of(text, "11:00-20:00")}: intervals "08:00-12:00" and "11:00-20:00" on mon '
        "overlap; expected separate intervals (touching is fine)"
    ]


def test_an_inverted_interval_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, 'fri = ["08:00-20:00"]', 'fri = ["20:00-08:00"]')
    assert problems_of(file) == [
        f'{file}:{line_of(text, "20:00-08:00")}: interval "20:00-08:00" on fri ends before it starts; '
        'expected start before end (for hours past midnight write two intervals, e.g. "22:00-24:00" '
        'and next day "00:00-06:00")'
    ]


def test_an_impossible_or_unreadable_time_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, 'tue = ["08:00-20:00"]', 'tue = ["08:00-25:00", "8 to 9"]')
    assert problems_of(file) == [
        f'{file}:{line_of(text, "25:00")}: interval "08:00-25:00" on tue has an impossible time; '
        "expected times from 00:00 to 24:00",
        f'{file}:{line_of(text, "25:00")}: interval "8 to 9" on tue is not a time range; '
        'expected "08:00-20:00" (end exclusive, "24:00" = end of the day)',
    ]


def test_mistakes_on_several_days_of_one_calendar_are_all_reported(tmp_path: Path) -> None:
    file, text = broken_policy(
        tmp_path,
        'mon = ["08:00-20:00"]\ntue = ["08:00-20:00"]',
        'mon = ["08:00-12:00", "11:00-20:00"]\ntue = ["20:00-08:00"]',
    )
    assert [problem.rsplit("; expected", 1)[0] for problem in problems_of(file)] == [
        f'{file}:{line_of(text, "11:00-20:00")}: intervals "08:00-12:00" and "11:00-20:00" on mon overlap',
        f'{file}:{line_of(text, "20:00-08:00")}: interval "20:00-08:00" on tue ends before it starts',
    ]


def test_an_unknown_time_zone_is_reported(tmp_path: Path) -> None:
    old = 'time_zone = "America/Sao_Paulo"\nbusiness_days = "12x5"'
    file, text = broken_policy(tmp_path, old, old.replace("Paulo", "Paolo"))
    assert problems_of(file) == [
        f'{file}:{line_of(text, "Sao_Paolo")}: unknown time zone "America/Sao_Paolo" '
        '(did you mean "America/Sao_Paulo"?); expected an IANA name such as "America/Sao_Paulo"'
    ]


def test_an_unknown_holiday_country_or_subdivision_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(
        tmp_path, '# holidays = { country = "BR" }', 'holidays = { country = "XX" }'
    )
    assert problems_of(file) == [
        f'{file}:{line_of(text, "XX")}: unknown holiday country "XX"; expected an ISO 3166 code '
        'supported by the holidays package, e.g. "BR"'
    ]
    file, text = broken_policy(
        tmp_path,
        '# holidays = { country = "BR" }',
        'holidays = { country = "BR", subdivision = "ZZ" }',
    )
    [problem] = problems_of(file)
    assert problem.startswith(
        f'{file}:{line_of(text, "ZZ")}: unknown subdivision "ZZ" of BR; expected one of: AC, AL,'
    )


def test_a_sold_until_that_is_not_a_date_is_reported(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, "sold_until = 2022-07-01", 'sold_until = "July 2022"')
    assert problems_of(file) == [
        f'{file}:{line_of(text, "July 2022")}: sold_until "July 2022" is not a date; expected a date '
        "like 2022-07-01"
    ]


def test_a_toml_syntax_error_gets_its_line(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, 'name = "Gold"', 'name = "Gold')
    line = line_of(text, 'name = "Gold')
    assert problems_of(file) == [
        f"{file}:{line}: not valid TOML: Illegal character '\\n' "
        "(a string without its closing quote?); expected TOML syntax (see docs/policy.md)"
    ]


def test_a_misspelt_key_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    file, text = broken_policy(tmp_path, 'coverage = "12x5"\ntargets', 'coverge = "12x5"\ntargets')
    assert problems_of(file) == [
        f'{file}:{line_of(text, "coverge")}: unknown key "coverge" in [plans.standard] (did you mean '
        '"coverage"?); expected one of: name, family, sold_until, availability, channels, coverage, '
        "targets, technical_account_manager, account_manager, max_points_of_contact",
        f'{file}:{line_of(text, "[plans.standard]")}: missing key "coverage" in [plans.standard]; '
        "expected a string in quotes",
    ]


def test_every_mistake_is_reported_in_one_run_without_knock_on_errors(tmp_path: Path) -> None:
    # a broken 12x5 calendar must not also make Support Standard's coverage "unknown"
    file, text = broken_policy(tmp_path, 'mon = ["08:00-20:00"]', 'mon = ["20:00-08:00"]')
    text = text.replace('channels = ["portal"]', 'channels = ["portal", "fax"]')
    text = text.replace("warning_share = 0.75", "warning_share = 1.5")
    Path(file).write_text(text, encoding="utf-8")
    assert [problem.rsplit("; expected", 1)[0] for problem in problems_of(file)] == [
        f'{file}:{line_of(text, "20:00-08:00")}: interval "20:00-08:00" on mon ends before it starts',
        f'{file}:{line_of(text, "fax")}: unknown channel "fax" in plans.standard.channels',
        f"{file}:{line_of(text, 'warning_share')}: sla.warning_share is 1.5",
    ]


def test_other_mistakes_name_what_is_expected(tmp_path: Path) -> None:
    cases = [
        (
            'business_days = "business-days-brt"',
            'business_days = "business-days"',
            'unknown calendar "business-days" in calendars.24x7.business_days (did you mean "business-days-brt"?); expected one of: 12x5, 24x7, business-days-brt',
        ),
        (
            'hotline = { severity = "high" }',
            'hotline = { severity = "urgent" }',
            'unknown severity "urgent" in channels.hotline.severity; expected one of: low, medium, high or "requester"',
        ),
        (
            'version = "2022-07-01.1"',
            'versio = "2022-07-01.1"',
            'unknown key "versio" at the top of the file (did you mean "version"?); expected one of: version, sla, email, calendars, account_statuses, channels, plans',
        ),
        (
            "free_mail_extra_domains = []",
            'free_mail_extra_domains = ["@gmail"]',
            '"@gmail" is not a mail domain; expected names like "example.com"',
        ),
        (
            "technical_account_manager = true",
            "technical_account_manager = 1",
            "plans.mission-critical.technical_account_manager is 1; expected true or false",
        ),
    ]
    for old, new, message in cases:
        file, text = broken_policy(tmp_path, old, new)
        found = problems_of(file)
        assert found[0] == f"{file}:{line_of(text, new)}: {message}", found


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    [problem] = problems_of(str(missing))
    assert problem.startswith(f"{missing}:1: cannot read the policy file (")


def test_docs_show_the_default_policy_as_shipped() -> None:
    docs = Path(__file__).resolve().parents[4] / "docs" / "policy.md"
    assert default_policy_path().read_text(encoding="utf-8") in docs.read_text(encoding="utf-8")
