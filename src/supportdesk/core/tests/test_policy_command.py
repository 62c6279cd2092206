"""`supportdesk policy check|show|due`, through call_command and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from supportdesk.core.policy_source import active_policy, active_policy_path, reset_active_policy
from supportdesk.policy import default_policy_path


def policy(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("policy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def due(*args: str) -> dict:  # type: ignore[type-arg]
    out, _ = policy("due", *args)
    assert out.count("\n") == 1  # one JSON object on one line
    return json.loads(out)  # type: ignore[no-any-return]


def supportdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SUPPORTDESK_POLICY_FILE": ""},
    )


@pytest.fixture(autouse=True)
def _fresh_policy() -> None:
    reset_active_policy()


# --- due: every example of SPEC §2 ------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "severity", "opened", "expected_due", "target", "coverage"),
    [
        # Friday 19:00 BRT on Support Standard, 1 business day: Monday 19:00
        (
            "standard",
            "low",
            "2026-11-27T19:00-03:00",
            "2026-11-30T22:00:00Z",
            "1 business day",
            "12x5",
        ),
        # 24x7, "1 business day" from Friday 15:00: Monday 15:00
        ("gold", "low", "2026-11-27T15:00-03:00", "2026-11-30T18:00:00Z", "1 business day", "24x7"),
        # ...from Saturday 10:00: Tuesday 00:00 (the clock starts Monday 00:00)
        ("gold", "low", "2026-11-28T10:00-03:00", "2026-12-01T03:00:00Z", "1 business day", "24x7"),
        # Monday 08:00 + a full 12-hour day on 12x5 is Monday 20:00, not Tuesday 08:00
        (
            "standard",
            "high",
            "2026-11-30T08:00-03:00",
            "2026-11-30T23:00:00Z",
            "1 business day",
            "12x5",
        ),
        # opened outside coverage (Saturday): counting starts at Monday's opening
        (
            "standard",
            "medium",
            "2026-11-28T10:00-03:00",
            "2026-11-30T23:00:00Z",
            "1 business day",
            "12x5",
        ),
        # "N h" on 24x7 runs through the weekend
        ("silver", "high", "2026-11-28T10:00-03:00", "2026-11-28T14:00:00Z", "1 h", "24x7"),
        ("plus", "low", "2026-11-28T22:00-03:00", "2026-11-29T09:00:00Z", "8 h", "24x7"),
        # "N min", given in UTC
        (
            "mission-critical",
            "high",
            "2026-11-28T13:00:00Z",
            "2026-11-28T13:30:00Z",
            "30 min",
            "24x7",
        ),
    ],
)
def test_due_answers_the_spec_examples(
    plan: str, severity: str, opened: str, expected_due: str, target: str, coverage: str
) -> None:
    result = due("--plan", plan, "--severity", severity, "--opened", opened)
    assert (result["due"], result["target"], result["coverage"]) == (expected_due, target, coverage)
    assert result["severity"] == severity
    assert result["policy_version"] == "2022-07-01.1"
    assert isinstance(result["reasons"], list) and result["reasons"]


def test_due_applies_channel_and_status_rules() -> None:
    email = due(
        "--plan",
        "gold",
        "--severity",
        "low",
        "--channel",
        "email",
        "--opened",
        "2026-11-30T10:00-03:00",
    )
    assert (email["severity"], email["target"], email["due"]) == (
        "medium",
        "6 h",
        "2026-11-30T19:00:00Z",
    )
    trial = due(
        "--plan",
        "gold",
        "--severity",
        "high",
        "--status",
        "trial",
        "--opened",
        "2026-11-30T10:00-03:00",
    )
    assert (trial["coverage"], trial["target"], trial["due"]) == (
        "12x5",
        "1 business day",
        "2026-12-01T13:00:00Z",
    )
    assert "trial account: Support Standard terms" in trial["reasons"]
    expired = due(
        "--plan",
        "gold",
        "--severity",
        "high",
        "--status",
        "expired",
        "--opened",
        "2026-11-30T10:00-03:00",
    )
    assert expired["due"] is None and expired["target"] is None
    standard_mail = due(
        "--plan",
        "standard",
        "--severity",
        "low",
        "--channel",
        "email",
        "--opened",
        "2026-11-30T10:00-03:00",
    )
    assert standard_mail["due"] is None
    assert standard_mail["reasons"][-1] == "channel email not in plan Support Standard: no SLA"


def test_due_reads_another_policy_file(tmp_path: Path) -> None:
    custom = tmp_path / "vendor.toml"
    custom.write_text(default_policy_path().read_text().replace('"2022-07-01.1"', '"vendor-7"'))
    result = due(
        "--plan",
        "gold",
        "--severity",
        "high",
        "--opened",
        "2026-11-30T10:00Z",
        "--policy",
        str(custom),
    )
    assert result["policy_version"] == "vendor-7"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--plan", "platinum", "--severity", "low"],
            "--plan: unknown plan 'platinum'; valid plans: bronze, pro, silver, gold, enterprise, standard, plus, mission-critical",
        ),
        (
            ["--plan", "gold", "--severity", "urgent"],
            "argument --severity: invalid choice: 'urgent' (choose from 'low', 'medium', 'high')",
        ),
        (
            ["--plan", "gold", "--severity", "low", "--status", "gone"],
            "argument --status: invalid choice: 'gone' (choose from 'active', 'trial', 'expired', 'suspended')",
        ),
        (
            ["--plan", "gold", "--severity", "low", "--channel", "fax"],
            "argument --channel: invalid choice: 'fax' (choose from 'portal', 'email', 'hotline')",
        ),
    ],
)
def test_bad_arguments_are_one_line_naming_the_valid_values(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as caught:
        policy("due", *args, "--opened", "2026-11-30T15:00-03:00")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_opening_time_without_offset_is_refused_with_an_example() -> None:
    with pytest.raises(
        CommandError,
        match=r"has no time-zone offset; give an offset, e\.g\. 2026-11-30T15:00-03:00",
    ):
        policy("due", "--plan", "gold", "--severity", "low", "--opened", "2026-11-30T15:00")


def test_from_a_terminal_bad_arguments_print_one_line_and_fail() -> None:
    result = supportdesk(
        "policy",
        "due",
        "--plan",
        "gold",
        "--severity",
        "urgent",
        "--opened",
        "2026-11-30T15:00-03:00",
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "invalid choice: 'urgent' (choose from 'low', 'medium', 'high')" in result.stderr
    unknown_plan = supportdesk(
        "policy", "due", "--plan", "gld", "--severity", "low", "--opened", "2026-11-30T15:00Z"
    )
    assert unknown_plan.returncode == 2
    assert unknown_plan.stderr.strip().count("\n") == 0
    assert "valid plans: bronze, pro, silver, gold" in unknown_plan.stderr


def test_from_a_terminal_due_prints_one_json_object() -> None:
    result = supportdesk(
        "policy",
        "due",
        "--plan",
        "standard",
        "--severity",
        "low",
        "--opened",
        "2026-11-27T19:00-03:00",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["due"] == "2026-11-30T22:00:00Z"


# --- check ---------------------------------------------------------------------------


def test_check_accepts_the_active_policy_and_summarises_it() -> None:
    out, _ = policy("check")
    assert out.startswith(
        f"{default_policy_path()}: OK, policy version 2022-07-01.1: 8 plans (bronze,"
    )


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    text = default_policy_path().read_text()
    text = text.replace('high = "30 min" }', 'high = "3 hourz" }', 1).replace(
        'time_zone = "America/Sao_Paulo"', 'time_zone = "Mars/Olympus"', 1
    )
    broken.write_text(text)
    err = StringIO()
    with pytest.raises(CommandError, match="2 problems; the policy was not loaded"):
        call_command("policy", "check", str(broken), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines == [
        f'{broken}:19: unknown time zone "Mars/Olympus"; expected an IANA name such as "America/Sao_Paulo"',
        f'{broken}:105: target \'3 hourz\' is not a duration; expected e.g. "30 min", "2 h" or "1 business day" (plan gold, high)',
    ]


def test_check_exits_non_zero_from_a_terminal(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('version = "x"\n[plans.gold]\nname = "Gold"\n')
    result = supportdesk("policy", "check", str(broken))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(f"{broken}:")


def test_the_active_policy_follows_the_setting(tmp_path: Path) -> None:
    custom = tmp_path / "vendor.toml"
    custom.write_text(default_policy_path().read_text().replace('"2022-07-01.1"', '"vendor-8"'))
    with override_settings(SUPPORTDESK_POLICY_FILE=str(custom)):
        assert active_policy_path() == custom
        assert active_policy().version == "vendor-8"
        out, _ = policy("check")
        assert out.startswith(f"{custom}: OK, policy version vendor-8")
    assert active_policy().version == "2022-07-01.1"


# --- show ----------------------------------------------------------------------------


def test_show_prints_the_plan_matrix_as_an_aligned_table() -> None:
    out, _ = policy("show")
    lines = out.splitlines()
    assert lines[0] == "policy version 2022-07-01.1"
    assert lines[1].split() == [
        "plan",
        "name",
        "family",
        "sold",
        "until",
        "channels",
        "coverage",
        "Low",
        "Medium",
        "High",
    ]
    assert len(lines) == 2 + 8
    assert lines[2].split("  ")[0] == "bronze"
    gold = next(line for line in lines if line.startswith("gold "))
    assert [cell.strip() for cell in gold.split("  ") if cell.strip()][-3:] == [
        "1 business day",
        "6 h",
        "30 min",
    ]
    assert len({line.index("24x7") for line in lines if "24x7" in line}) == 1  # aligned columns


def test_show_prints_json() -> None:
    out, _ = policy("show", "--format", "json")
    data = json.loads(out)
    plans = {plan["id"]: plan for plan in data["plans"]}
    assert list(plans) == [
        "bronze",
        "pro",
        "silver",
        "gold",
        "enterprise",
        "standard",
        "plus",
        "mission-critical",
    ]
    assert plans["standard"] == {
        "id": "standard",
        "name": "Support Standard",
        "family": "current",
        "sold_until": None,
        "availability": "free for customers and trial users",
        "channels": ["portal"],
        "coverage": "12x5",
        "targets": {"low": "1 business day", "medium": "1 business day", "high": "1 business day"},
        "account_manager": True,
        "technical_account_manager": False,
        "max_points_of_contact": None,
    }
    assert plans["bronze"]["sold_until"] == "2022-07-01"
