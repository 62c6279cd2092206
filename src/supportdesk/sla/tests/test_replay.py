import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from supportdesk.policy import default_policy_path
from supportdesk.sla.tests.shared import brt, email_ticket, make_agent, make_customer, portal_ticket
from supportdesk.tickets import actions

pytestmark = pytest.mark.django_db

GOLD = 'targets = { low = "1 business day", medium = "6 h", high = "30 min" }'


@pytest.fixture
def answered():
    """Gold High answered after 10 and 40 min, Gold Medium by email after 5 h, Standard
    High after 2 h on its 12x5 clock, an unidentified email answered (no SLA)."""
    make_customer()
    make_customer(slug="lojas", name="Lojas", domains=["lojas.example"], plan="standard",
                  contacts=[("bia@lojas.example", "Bia", True)])
    sam = make_agent("sam@desk.example")
    with time_machine.travel(brt(2, 9), tick=False) as traveller:
        quick, slow = portal_ticket("high"), portal_ticket("high")
        mail = email_ticket("ana@acme.example")
        stranger = email_ticket("someone@gmail.com")
        traveller.shift(timedelta(minutes=10))
        actions.add_public_reply(ticket=quick, author=sam, body_text="on it")
        traveller.shift(timedelta(minutes=30))
        actions.add_public_reply(ticket=slow, author=sam, body_text="sorry")
        actions.add_public_reply(ticket=stranger, author=sam, body_text="who are you?")
        traveller.move_to(brt(2, 14))
        actions.add_public_reply(ticket=mail, author=sam, body_text="here")
    with time_machine.travel(brt(6, 19), tick=False) as traveller:
        lojas = portal_ticket("high", email="bia@lojas.example")
        traveller.move_to(brt(9, 9))
        actions.add_public_reply(ticket=lojas, author=sam, body_text="morning")
    with time_machine.travel(brt(9, 10), tick=False):
        portal_ticket("low")  # not answered: not replayed


def policy_file(tmp_path, *, gold: str = GOLD):
    text = default_policy_path().read_text()
    assert GOLD in text
    path = tmp_path / "new.toml"
    path.write_text(text.replace(GOLD, gold).replace('version = "2022-07-01.1"', 'version = "2026-trial"'))
    return path


def replay_json(*args):
    out = io.StringIO()
    call_command("policy", "replay", *args, stdout=out)  # not a terminal: JSON lines
    return {row["group"]: row for row in map(json.loads, out.getvalue().splitlines())}


def test_replaying_the_same_policy_gives_the_real_outcomes(answered, tmp_path):
    rows = replay_json("--policy", str(policy_file(tmp_path)))
    total = rows["all"]
    assert total["tickets"] == 5
    assert (total["real_met"], total["real_breached"], total["real_no_sla"]) == (3, 1, 1)
    assert (total["new_met"], total["new_breached"], total["new_no_sla"]) == (3, 1, 1)
    assert total["outcome_changed"] == total["due_earlier"] == total["due_later"] == 0
    assert rows["gold"]["tickets"] == 3 and rows["standard"]["tickets"] == 1


def test_a_stricter_gold_target_shows_what_would_have_been_missed(answered, tmp_path):
    stricter = policy_file(tmp_path, gold='targets = { low = "1 business day", medium = "4 h", high = "5 min" }')
    gold = replay_json("--policy", str(stricter))["gold"]
    assert (gold["real_met"], gold["real_breached"]) == (2, 1)
    assert (gold["new_met"], gold["new_breached"]) == (0, 3)  # 10 min > 5 min, 5 h > 4 h
    assert gold["due_earlier"] == 3 and gold["outcome_changed"] == 2
    assert gold["new_met_share"] == 0.0 and gold["policy_version"] == "2026-trial"


def test_since_limits_the_replay(answered, tmp_path):
    rows = replay_json("--policy", str(policy_file(tmp_path)), "--since", "2026-03-05")
    assert rows["all"]["tickets"] == 1 and set(rows) == {"standard", "all"}


def test_the_table_puts_real_and_replayed_side_by_side(answered, tmp_path):
    out = io.StringIO()
    call_command("policy", "replay", "--policy", str(policy_file(tmp_path)), "--format", "table",
                 "--by", "severity", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "answered tickets: real outcomes | replayed under policy 2026-trial"
    assert lines[1].split()[:3] == ["severity", "tickets", "real"]
    high = next(line for line in lines if line.startswith("high"))
    assert high.split()[:6] == ["high", "3", "2", "1", "0", "66.7%"]


def test_a_broken_policy_file_says_what_to_fix(answered, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("version = \n")
    with pytest.raises(CommandError, match="fix it and try again"):
        call_command("policy", "replay", "--policy", str(broken), stdout=io.StringIO(), stderr=io.StringIO())
