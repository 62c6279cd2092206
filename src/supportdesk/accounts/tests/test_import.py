import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportdesk.accounts.models import Account, AccountDomain, Contact, Subscription

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
