"""Deciding the SLA: severity x plan x account status x channel (SPEC §4, §5)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.policy import (
    AccountStatus,
    Channel,
    PolicyError,
    Severity,
    decide_sla,
    load_default_policy,
)

BRT = ZoneInfo("America/Sao_Paulo")
MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=BRT)

# Opened Monday 2026-11-30 10:00 BRT on the portal: due (BRT) per plan and severity.
EXPECTED_DUE = {
    "bronze": ("12-04 10:00", "12-01 10:00", "11-30 12:00"),
    "pro": ("12-04 10:00", "12-01 10:00", "11-30 12:00"),
    "silver": ("12-02 10:00", "11-30 22:00", "11-30 11:00"),
    "gold": ("12-01 10:00", "11-30 16:00", "11-30 10:30"),
    "enterprise": ("12-01 10:00", "11-30 16:00", "11-30 10:30"),
    "standard": ("12-01 10:00", "12-01 10:00", "12-01 10:00"),
    "plus": ("11-30 18:00", "11-30 14:00", "11-30 12:00"),
    "mission-critical": ("11-30 14:00", "11-30 12:00", "11-30 10:30"),
}


def decide(**overrides: object):  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {
        "plan": "gold",
        "status": "active",
        "severity": "high",
        "channel": "portal",
        "opened_at": MONDAY_10,
    }
    arguments.update(overrides)
    return decide_sla(load_default_policy(), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("plan", list(EXPECTED_DUE))
@pytest.mark.parametrize("severity", list(Severity))
def test_every_cell_of_the_matrix_gives_its_due_time(plan: str, severity: Severity) -> None:
    decision = decide(plan=plan, severity=severity)
    expected = EXPECTED_DUE[plan][list(Severity).index(severity)]
    assert decision.due is not None
    assert decision.due.astimezone(BRT).strftime("%m-%d %H:%M") == expected
    assert decision.target == load_default_policy().plan(plan).targets[severity].text


def test_an_active_gold_high_ticket_is_due_in_30_minutes_on_24x7() -> None:
    decision = decide()
    assert decision.due == MONDAY_10 + timedelta(minutes=30)
    assert (decision.target, decision.coverage, decision.terms_plan) == ("30 min", "24x7", "gold")
    assert decision.severity is Severity.HIGH and decision.channel_allowed
    assert decision.summary == "Gold, active, High via portal: 30 min on 24x7"
    assert decision.reasons == (
        "severity High chosen by the requester on the portal",
        "active account on plan Gold",
        "first response within 30 min on the 24x7 clock (plan Gold, High, policy 2022-07-01.1)",
    )


def test_email_tickets_are_medium_and_hotline_tickets_high() -> None:
    assert decide(channel="email", severity="low").severity is Severity.MEDIUM
    assert decide(channel="email", severity=None).target == "6 h"
    hotline = decide(channel=Channel.HOTLINE, severity="low", plan="mission-critical")
    assert (hotline.severity, hotline.target) == (Severity.HIGH, "30 min")
    assert hotline.reasons[0] == "hotline requests are always High"


def test_a_portal_request_without_severity_gets_the_policy_default() -> None:
    decision = decide(severity=None, plan="plus")
    assert (decision.severity, decision.target) == (Severity.MEDIUM, "4 h")
    assert decision.reasons[0] == "no severity chosen on the portal: Medium by default"


def test_a_trial_account_gets_support_standard_terms() -> None:
    decision = decide(plan="standard", status=AccountStatus.TRIAL, severity="high")
    assert (decision.terms_plan, decision.coverage, decision.target) == (
        "standard",
        "12x5",
        "1 business day",
    )
    assert "trial account: Support Standard terms" in decision.reasons
    assert decision.due == datetime(2026, 12, 1, 10, tzinfo=BRT)
    on_gold = decide(plan="gold", status="trial")
    assert on_gold.terms_plan == "standard"
    assert (
        on_gold.summary
        == "Gold, trial, High via portal: 1 business day on 12x5 (Support Standard terms)"
    )


def test_a_channel_the_terms_do_not_include_has_no_sla() -> None:
    decision = decide(plan="standard", channel="email")
    assert decision.due is None and not decision.channel_allowed
    assert decision.reasons[-1] == "channel email not in plan Support Standard: no SLA"
    assert decision.summary == "Support Standard, active, Medium via email: no SLA"
    trial_by_phone = decide(plan="gold", status="trial", channel="hotline")
    assert trial_by_phone.reasons[-1] == "channel hotline not in plan Support Standard: no SLA"


@pytest.mark.parametrize("status", ["expired", "suspended"])
def test_expired_and_suspended_accounts_have_no_sla(status: str) -> None:
    decision = decide(status=status)
    assert decision.due is None and decision.target is None and decision.coverage is None
    assert decision.reasons[-1] == f"{status} account: no SLA (handled best-effort)"
    assert decision.policy_version == "2022-07-01.1"


@pytest.mark.parametrize("status", ["expired", "suspended"])
def test_channel_allowed_says_whether_the_plan_includes_the_channel_even_without_sla(
    status: str,
) -> None:
    by_hotline = decide(plan="gold", status=status, channel="hotline")
    assert by_hotline.due is None and by_hotline.channel_allowed
    assert by_hotline.to_dict()["channel_allowed"] is True
    standard_by_email = decide(plan="standard", status=status, channel="email")
    assert standard_by_email.due is None and not standard_by_email.channel_allowed


def test_an_unidentified_requester_has_no_sla() -> None:
    decision = decide(plan=None, status=None, channel="email")
    assert decision.due is None and decision.terms_plan is None
    assert not decision.channel_allowed  # no terms include anything
    assert decision.reasons[-1] == "requester not identified as a customer: no SLA"
    assert decision.summary == "unidentified requester, Medium via email: no SLA"


def test_the_decision_is_json_ready() -> None:
    data = decide().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["due"] == "2026-11-30T13:30:00Z"
    assert data["opened_at"] == "2026-11-30T13:00:00Z"
    assert data["reasons"][1] == "active account on plan Gold"
    assert decide(status="expired").to_dict()["due"] is None


def test_bad_values_name_the_valid_ones() -> None:
    with pytest.raises(PolicyError, match="unknown plan 'platinum'; valid plans: bronze, pro"):
        decide(plan="platinum")
    with pytest.raises(
        ValueError, match="unknown severity 'urgent'; expected one of low, medium, high"
    ):
        decide(severity="urgent")
    with pytest.raises(
        ValueError, match="unknown channel 'fax'; expected one of portal, email, hotline"
    ):
        decide(channel="fax")
    with pytest.raises(
        ValueError, match="unknown status 'gone'; expected one of active, trial, expired, suspended"
    ):
        decide(status="gone")
    with pytest.raises(ValueError, match="has no time zone"):
        decide(opened_at=datetime(2026, 11, 30, 10))  # noqa: DTZ001 - the point of the test
