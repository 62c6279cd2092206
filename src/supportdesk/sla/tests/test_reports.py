import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts.testing import login_for
from supportdesk.core.policy_source import active_policy
from supportdesk.sla import reports
from supportdesk.sla.tests.shared import brt, email_ticket, make_agent, make_customer, portal_ticket
from supportdesk.tickets import actions

pytestmark = pytest.mark.django_db

AS_OF = brt(31, 12)  # Tuesday 31 March 2026, 12:00 BRT


@pytest.fixture
def dataset():
    """Six tickets opened in March 2026 (and one in February), with known outcomes.

    1  Acme (Gold 24x7)  High   portal  answered after 10 min          met       10 min
    2  Acme              High   portal  answered after 40 min          breached  40 min
    3  Acme              Medium email   never answered (due +6 h)      breached
    4  Acme              Low    portal  opened 31 Mar 11:00, due 1 Apr pending
    5  Lojas (Standard)  High   portal  Fri 19:00 -> Mon 09:00         met        2 h on 12x5
    6  unidentified      Medium email   no SLA                         no SLA
    """
    make_customer()
    make_customer(slug="lojas", name="Lojas", domains=["lojas.example"], plan="standard",
                  contacts=[("bia@lojas.example", "Bia", True)])
    sam = make_agent("sam@desk.example")
    with time_machine.travel(brt(27, 9), tick=False):
        portal_ticket("high", subject="February is excluded", now=brt(27, 9, 0, month=2))
    with time_machine.travel(brt(2, 9), tick=False) as traveller:
        one = portal_ticket("high", subject="one")
        two = portal_ticket("high", subject="two")
        three = email_ticket("ana@acme.example", subject="three")
        traveller.shift(timedelta(minutes=10))
        actions.add_public_reply(ticket=one, author=sam, body_text="on it")
        traveller.shift(timedelta(minutes=30))
        actions.add_public_reply(ticket=two, author=sam, body_text="sorry")
    with time_machine.travel(brt(6, 19), tick=False) as traveller:  # Friday 19:00
        five = portal_ticket("high", email="bia@lojas.example", subject="five")
        email_ticket("someone@gmail.com", subject="six")
        traveller.move_to(brt(9, 9))  # Monday 09:00
        actions.add_public_reply(ticket=five, author=sam, body_text="good morning")
    with time_machine.travel(brt(31, 11), tick=False):
        portal_ticket("low", subject="four")
    return {"one": one, "two": two, "three": three, "five": five, "sam": sam}


def counts(row):
    return (row.met, row.breached, row.pending, row.no_sla)


def by(report, dimension):
    return {row.label: counts(row) for row in report.by[dimension]}


def test_the_compliance_report_counts_a_known_month(dataset):
    report = reports.compliance(reports.month(2026, 3), as_of=AS_OF, policy=active_policy())
    assert counts(report.total) == (2, 2, 1, 1)
    assert report.total.met_share == 0.5
    assert by(report, "plan") == {"Gold": (1, 2, 1, 0), "Support Standard": (1, 0, 0, 0), "(no plan)": (0, 0, 0, 1)}
    assert by(report, "severity") == {"High": (2, 1, 0, 0), "Medium": (0, 1, 0, 1), "Low": (0, 0, 1, 0)}
    assert by(report, "channel") == {"portal": (2, 1, 1, 0), "email": (0, 1, 0, 1)}
    assert by(report, "account") == {"Acme": (1, 2, 1, 0), "Lojas": (1, 0, 0, 0), "(no account)": (0, 0, 0, 1)}
    assert by(report, "period") == {"2026-03-02": (1, 2, 0, 0), "2026-03-06": (1, 0, 0, 1), "2026-03-31": (0, 0, 1, 0)}


def test_first_response_times_are_counted_on_each_tickets_own_clock(dataset):
    report = reports.compliance(reports.month(2026, 3), as_of=AS_OF, policy=active_policy())
    # 10 min, 40 min (Gold, 24x7) and 2 h (Standard, 12x5: Friday 19-20 + Monday 8-9).
    assert report.total.median == timedelta(minutes=40)
    assert report.total.p90 == timedelta(hours=2)
    standard = next(row for row in report.by["plan"] if row.key == "standard")
    assert (standard.median, standard.p90) == (timedelta(hours=2), timedelta(hours=2))


def test_the_breach_list_says_why(dataset):
    found = reports.breaches(reports.month(2026, 3), as_of=AS_OF, policy=active_policy())
    assert [b.number for b in found] == [dataset["two"].number, dataset["three"].number]
    assert found[0].why == "answered 10 min after the 30 min target on 24x7"
    assert found[1].why == "not answered yet: 28 d 21 h past the 6 h target on 24x7"  # due 2 Mar 15:00
    assert any("Gold" in reason for reason in found[0].reasons)



def test_the_breach_list_names_the_plan_and_speaks_brazilian_portuguese(client, dataset):
    client.force_login(dataset["sam"])
    with time_machine.travel(AS_OF, tick=False):
        page = client.get(reverse("sla:breaches"), {"period": "2026-03"}, HTTP_ACCEPT_LANGUAGE="pt-BR")
    html = page.content.decode()
    assert "respondido 10 min depois do prazo de 30 min no relógio 24x7" in html
    assert "Gold ·" in html and "gold ·" not in html

def test_the_monthly_statement_lists_the_accounts_tickets_with_their_decisions(dataset):
    acme = dataset["one"].account
    found = reports.statement(acme, reports.month(2026, 3), as_of=AS_OF, policy=active_policy())
    assert [(line.ticket.subject, line.outcome) for line in found.lines] == [
        ("one", "met"), ("two", "breached"), ("three", "breached"), ("four", "pending"),
    ]
    assert counts(found.summary) == (1, 2, 1, 0)


# --- pages ---------------------------------------------------------------------------------


def test_the_console_report_renders_tables_charts_and_csv(client, dataset):
    client.force_login(dataset["sam"])
    with time_machine.travel(AS_OF, tick=False):
        page = client.get(reverse("sla:compliance"), {"period": "2026-03"})
        assert page.status_code == 200
        html = page.content.decode()
        assert "<svg" in html and "SLA compliance by plan" in html
        assert "Support Standard" in html
        exported = client.get(reverse("sla:compliance"), {"period": "2026-03", "table": "plan", "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {row["plan"]: (row["met"], row["breached"], row["pending"], row["no_sla"]) for row in rows} == {
        "Gold": ("1", "2", "1", "0"), "Support Standard": ("1", "0", "0", "0"), "(no plan)": ("0", "0", "0", "1"),
    }


def test_every_report_table_exports_csv(client, dataset):
    client.force_login(dataset["sam"])
    with time_machine.travel(AS_OF, tick=False):
        for table in (*reports.DIMENSIONS, "total"):
            response = client.get(reverse("sla:compliance"), {"period": "2026-03", "table": table, "format": "csv"})
            assert response.status_code == 200, table
        breaches = client.get(reverse("sla:breaches"), {"period": "2026-03", "format": "csv"})
        statement = client.get(reverse("sla:statement", args=["acme", "2026-03"]), {"format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(breaches.content.decode())))) == 2
    assert [row["outcome"] for row in csv.DictReader(io.StringIO(statement.content.decode()))] == [
        "met", "breached", "breached", "pending",
    ]


def test_a_contact_sees_their_own_accounts_statement_in_the_portal(client, dataset):
    client.force_login(login_for("ana@acme.example"))
    with time_machine.travel(AS_OF, tick=False):
        page = client.get(reverse("sla_portal:statement_period", args=["2026-03"]))
        printable = client.get(reverse("sla_portal:statement_period", args=["2026-03"]), {"print": "1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "SLA statement: Acme, 2026-03" in html
    assert "Decision record" in html and "Gold" in html
    assert "five" not in html  # Lojas's ticket
    assert 'class="sla-print"' in printable.content.decode()


def test_another_accounts_contact_never_sees_it(client, dataset):
    client.force_login(login_for("bia@lojas.example"))
    with time_machine.travel(AS_OF, tick=False):
        html = client.get(reverse("sla_portal:statement_period", args=["2026-03"])).content.decode()
        console = client.get(reverse("sla:statement", args=["acme", "2026-03"]))
    assert "SLA statement: Lojas, 2026-03" in html and "Acme" not in html
    assert console.status_code in (302, 404)  # the console is for the team only


def test_reports_are_for_the_team_only(client, dataset):
    assert client.get(reverse("sla:compliance")).status_code == 302  # to sign-in
    client.force_login(login_for("ana@acme.example"))
    assert client.get(reverse("sla:compliance")).status_code in (302, 404)
