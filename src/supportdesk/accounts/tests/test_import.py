import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.accounts.models import Account, AccountDomain, AccountEvent, Contact, Subscription
from supportdesk.accounts.testing import contact, make_agent
from supportdesk.outbound.models import OutboundMail
from supportdesk.policy import default_policy_path

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[4]
BENCH_ACCOUNTS = REPO.parent / "shared" / "bench" / "accounts.json"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return (
        Account.objects.count(),
        AccountDomain.objects.count(),
        Contact.objects.count(),
        Subscription.objects.count(),
    )


def test_it_imports_the_benchmark_accounts():
    run("import", "accounts", str(BENCH_ACCOUNTS))
    acme = Account.objects.get(slug="acme")
    assert list(acme.domains.values_list("domain", flat=True)) == ["acme.io"]
    ops = acme.contacts.get()
    assert (ops.email, ops.phone, ops.is_point_of_contact) == ("ops@acme.io", "+5511912345678", True)
    assert acme.subscriptions.get().plan == "gold"
    assert counts() == (3, 3, 3, 3)


def test_importing_the_same_file_twice_changes_nothing():
    run("import", "accounts", str(BENCH_ACCOUNTS))
    before = counts()
    output = run("import", "accounts", str(BENCH_ACCOUNTS))
    assert counts() == before
    assert output.startswith("nothing to change")


def test_an_invalid_row_aborts_the_whole_import_naming_row_and_field(tmp_path):
    data = json.loads(BENCH_ACCOUNTS.read_text())
    data["accounts"][2]["contacts"][0]["phone"] = "12"
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as raised:
        run("import", "accounts", str(path))
    assert "accounts[2] (exampleorg): contacts[0].phone: '12' is not a valid phone number" in str(
        raised.value
    )
    assert "nothing was imported" in str(raised.value)
    assert counts() == (0, 0, 0, 0)


def test_it_refuses_a_new_legacy_subscription_in_an_import(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": [{
        "slug": "late", "name": "Late", "domains": ["late.example"],
        "subscription": {"plan": "gold", "status": "active", "starts": "2023-01-01"},
    }]}))
    with pytest.raises(CommandError, match=r"accounts\[0\] \(late\): subscription.plan: Gold is a legacy plan, not sold since 2022-07-01"):
        run("import", "accounts", str(path))
    assert counts() == (0, 0, 0, 0)


def test_it_refuses_a_free_mail_domain_in_an_import(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": [{"slug": "x", "name": "X", "domains": ["ok.example", "gmail.com"]}]}))
    with pytest.raises(CommandError, match=r"accounts\[0\] \(x\): domains\[1\]: gmail.com is a free-mail domain"):
        run("import", "accounts", str(path))


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("com.br", "com.br is a public suffix"),
        ("ACME.io", "acme.io is already registered on account Acme"),
    ],
)
def test_it_refuses_a_public_suffix_or_another_accounts_domain_in_an_import(tmp_path, domain, message):
    run("import", "accounts", str(BENCH_ACCOUNTS))
    before = counts()
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": [
        {"slug": "first", "name": "First", "domains": ["first.example"]},
        {"slug": "x", "name": "X", "domains": [domain]},
    ]}))
    with pytest.raises(CommandError, match=rf"accounts\[1\] \(x\): domains\[0\]: {message}"):
        run("import", "accounts", str(path))
    assert counts() == before  # the valid first account was not imported either


def test_csv_on_standard_input_without_format_is_told_to_give_it(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(CSV))
    with pytest.raises(CommandError, match="not valid JSON: .*; for CSV give --format csv"):
        run("import", "accounts", "-")
    monkeypatch.setattr("sys.stdin", io.StringIO(CSV))
    run("import", "accounts", "-", "--format", "csv")
    assert Account.objects.filter(slug="acme").exists()


def test_a_changed_subscription_is_recorded_as_a_new_history_row(tmp_path):
    run("import", "accounts", str(BENCH_ACCOUNTS))
    data = json.loads(BENCH_ACCOUNTS.read_text())
    data["accounts"][2]["subscription"]["status"] = "suspended"
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(data))
    run("import", "accounts", str(path))
    assert list(
        Account.objects.get(slug="exampleorg").subscriptions.order_by("id").values_list("status", flat=True)
    ) == ["active", "suspended"]


def test_export_writes_what_import_reads():
    run("import", "accounts", str(BENCH_ACCOUNTS))
    exported = json.loads(run("export", "accounts"))
    acme = next(a for a in exported["accounts"] if a["slug"] == "acme")
    assert acme == {
        "slug": "acme",
        "name": "Acme IO",
        "domains": ["acme.io"],
        "subscription": {"plan": "gold", "status": "active", "starts": "2021-03-01", "ends": "2027-03-01"},
        "contacts": [
            {"email": "ops@acme.io", "name": "Acme Ops", "point_of_contact": True, "phone": "+5511912345678"}
        ],
    }


def test_importing_an_export_changes_nothing(tmp_path):
    run("import", "accounts", str(BENCH_ACCOUNTS))
    path = tmp_path / "export.json"
    path.write_text(run("export", "accounts"))
    before = counts()
    assert run("import", "accounts", str(path)).startswith("nothing to change")
    assert counts() == before


CSV = """slug,name,domains,plan,status,starts,ends,contact_email,contact_name,contact_phone,point_of_contact
acme,Acme IO,acme.io mail.acme.io,gold,active,2021-03-01,2027-03-01,ops@acme.io,Acme Ops,+55 11 91234-5678,yes
acme,,,,,,,dev@acme.io,Acme Dev,,no
globex,Globex,globex.example,plus,trial,2025-01-01,,,,,
"""


def test_it_imports_accounts_domains_and_contacts_from_csv(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(CSV)
    run("import", "accounts", str(path))
    acme = Account.objects.get(slug="acme")
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme.io", "mail.acme.io"]
    assert sorted(acme.contacts.values_list("email", "is_point_of_contact")) == [
        ("dev@acme.io", False),
        ("ops@acme.io", True),
    ]
    globex = Account.objects.get(slug="globex").subscriptions.get()
    assert (globex.plan, globex.status, globex.ends) == ("plus", "trial", None)
    assert run("import", "accounts", str(path)).startswith("nothing to change")


def test_a_csv_error_names_the_line_and_column(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(CSV.replace("dev@acme.io", "not-an-address"))
    with pytest.raises(CommandError, match="line 3: column contact_email: 'not-an-address' is not an email address"):
        run("import", "accounts", str(path))
    assert counts() == (0, 0, 0, 0)


def test_it_says_what_to_fix_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("import", "accounts", str(tmp_path / "nope.json"))


# --- who speaks for the account: the same rules as accounts.contacts -----------------------


@pytest.fixture
def plus_capped_at_2(settings, tmp_path):
    text = default_policy_path().read_text(encoding="utf-8")
    policy = tmp_path / "capped.toml"
    policy.write_text(text.replace("[plans.plus]\n", "[plans.plus]\nmax_points_of_contact = 2\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)


def team_file(tmp_path, people, *, name="team.json", manager=None):
    """Acme on Support Plus with `people`: (email, point_of_contact, extra keys)."""
    account = {
        "slug": "acme", "name": "Acme", "domains": ["acme.example"],
        "subscription": {"plan": "plus", "status": "active", "starts": "2024-01-01"},
        "contacts": [{"email": email, "name": email.split("@")[0].title(), "point_of_contact": point, **extra}
                     for email, point, extra in people],
    }
    if manager:
        account["account_manager"] = manager
    path = tmp_path / name
    path.write_text(json.dumps({"accounts": [account]}))
    return str(path)


def acme_events():
    return list(
        AccountEvent.objects.filter(account__slug="acme").order_by("id").values_list("kind", "subject", "actor_name")
    )


def manager_mail():
    return list(OutboundMail.objects.filter(recipient="maria@desk.example").order_by("id"))


def test_a_file_over_the_plans_cap_of_points_of_contact_is_refused_as_a_whole(tmp_path, plus_capped_at_2):
    path = team_file(tmp_path, [("ana@acme.example", True, {}), ("bo@acme.example", True, {}),
                                ("cy@acme.example", True, {})])
    with pytest.raises(CommandError) as refused:
        run("import", "accounts", path)
    assert (
        "accounts[0] (acme): contacts[2].point_of_contact: Support Plus allows at most 2 points of "
        "contact, and this file would give Acme 3: revoke one first"
    ) in str(refused.value)
    assert counts() == (0, 0, 0, 0) and not AccountEvent.objects.exists()


def test_a_file_over_the_cap_changes_nothing_on_an_existing_account(tmp_path, plus_capped_at_2):
    run("import", "accounts", team_file(tmp_path, [("ana@acme.example", True, {}), ("bo@acme.example", True, {}),
                                                   ("cy@acme.example", False, {})]))
    before, events = counts(), acme_events()
    with pytest.raises(CommandError, match=r"contacts\[2\].point_of_contact: Support Plus allows at most 2"):
        run("import", "accounts", team_file(tmp_path, [("ana@acme.example", True, {}), ("bo@acme.example", True, {}),
                                                       ("cy@acme.example", True, {}), ("di@acme.example", False, {})]))
    assert counts() == before and acme_events() == events
    assert not contact("cy@acme.example").is_point_of_contact


def test_a_file_may_swap_a_point_of_contact_at_the_cap(tmp_path, plus_capped_at_2):
    run("import", "accounts", team_file(tmp_path, [("ana@acme.example", True, {}), ("bo@acme.example", True, {}),
                                                   ("cy@acme.example", False, {})]))
    # cy designated before bo is revoked in the file: the cap counts the result.
    run("import", "accounts", team_file(tmp_path, [("ana@acme.example", True, {}), ("cy@acme.example", True, {}),
                                                   ("bo@acme.example", False, {})]))
    assert sorted(Contact.objects.filter(is_point_of_contact=True).values_list("email", flat=True)) == [
        "ana@acme.example", "cy@acme.example"]


def test_each_change_of_role_by_an_import_is_an_account_event_and_reimporting_records_nothing(tmp_path):
    make_agent("maria@desk.example", name="Maria Costa")
    first = team_file(tmp_path, [("ana@acme.example", True, {"account_owner": True}),
                                 ("bo@acme.example", False, {})], name="acme.json", manager="maria@desk.example")
    run("import", "accounts", first)
    by = "import accounts acme.json"
    assert acme_events() == [
        ("contact_added", "Ana <ana@acme.example>", by),
        ("point_of_contact_designated", "Ana <ana@acme.example>", by),
        ("owner_set", "Ana <ana@acme.example>", by),
        ("contact_added", "Bo <bo@acme.example>", by),
    ]
    event = AccountEvent.objects.filter(kind="owner_set").get()
    assert event.actor is None and event.actor_role == "import"
    assert event.before["owner"] is False and event.after["owner"] is True
    assert manager_mail() == []  # a new account: nothing changed for its manager
    assert run("import", "accounts", first).startswith("nothing to change")
    assert len(acme_events()) == 4

    second = team_file(tmp_path, [("ana@acme.example", False, {"account_owner": False}),
                                  ("bo@acme.example", True, {})], name="swap.json", manager="maria@desk.example")
    output = run("import", "accounts", second)
    assert "account events recorded: 3" in output
    assert acme_events()[4:] == [
        ("point_of_contact_revoked", "Ana <ana@acme.example>", "import accounts swap.json"),
        ("owner_unset", "Ana <ana@acme.example>", "import accounts swap.json"),
        ("point_of_contact_designated", "Bo <bo@acme.example>", "import accounts swap.json"),
    ]
    revoked, designated = manager_mail()
    assert revoked.subject == "Acme: points of contact changed"
    assert "import accounts swap.json revoked Ana <ana@acme.example> as a point of contact." in revoked.text
    assert "import accounts swap.json made Bo <bo@acme.example> a point of contact." in designated.text
    assert "- Bo <bo@acme.example>" in designated.text
    assert run("import", "accounts", second).startswith("nothing to change")
    assert len(acme_events()) == 7 and len(manager_mail()) == 2


def test_an_import_removing_a_contact_takes_their_roles_as_remove_contact_does(tmp_path):
    make_agent("maria@desk.example", name="Maria Costa")
    run("import", "accounts", team_file(tmp_path, [("ana@acme.example", True, {"account_owner": True})],
                                        manager="maria@desk.example"))
    path = team_file(tmp_path, [("ana@acme.example", True, {"active": False})])
    with pytest.raises(CommandError, match=r"contacts\[0\].point_of_contact: a removed contact \(active: false\) "
                                           "cannot be a point of contact"):
        run("import", "accounts", path)
    path = team_file(tmp_path, [("ana@acme.example", False, {"active": False})], name="remove.json")
    run("import", "accounts", path)
    ana = contact("ana@acme.example")
    assert (ana.is_active, ana.is_point_of_contact, ana.is_account_owner) == (False, False, False)
    [removed] = AccountEvent.objects.filter(kind="contact_removed")
    assert removed.before == {"active": True, "point_of_contact": True, "owner": True}
    assert removed.after == {"active": False, "point_of_contact": False, "owner": False}
    [mail] = manager_mail()
    assert "import accounts remove.json removed Ana <ana@acme.example>." in mail.text
    exported = tmp_path / "export.json"
    exported.write_text(run("export", "accounts"))
    assert run("import", "accounts", str(exported)).startswith("nothing to change")


def test_an_empty_point_of_contact_column_in_csv_leaves_the_role_as_it_is(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(CSV)
    run("import", "accounts", str(path))
    path.write_text(CSV.replace(",yes\n", ",\n"))
    assert run("import", "accounts", str(path)).startswith("nothing to change")
    assert contact("ops@acme.io").is_point_of_contact
