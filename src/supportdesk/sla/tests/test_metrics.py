from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.accounts.testing import login_for
from supportdesk.sla import metrics
from supportdesk.sla.sweep import sweep
from supportdesk.sla.tests.shared import (
    MONDAY_9_BRT,
    email_ticket,
    make_agent,
    make_customer,
    portal_ticket,
)

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def desk(settings):
    settings.SUPPORTDESK_METRICS_TOKEN = TOKEN
    metrics.discard_unflushed()  # other tests' intakes counted in this process
    make_customer()
    make_agent("sam@desk.example")
    with time_machine.travel(MONDAY_9_BRT, tick=False) as traveller:
        portal_ticket("high")
        portal_ticket("low")
        email_ticket("ana@acme.example")
        email_ticket("someone@gmail.com")
        traveller.shift(timedelta(minutes=31))
        sweep()
        traveller.shift(timedelta(minutes=10))  # the worker has not swept since
        yield traveller


def scrape(client, **headers):
    return client.get(reverse("metrics"), **headers)


def test_it_refuses_without_a_token(client, desk):
    response = scrape(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert scrape(client, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_it_refuses_a_specialist_and_a_customer_session(client, desk):
    client.force_login(User.objects.get(email="sam@desk.example"))
    assert scrape(client).status_code == 401
    client.force_login(login_for("ana@acme.example"))
    assert scrape(client).status_code == 401


def test_a_supervisor_session_may_read_it(client, desk):
    client.force_login(make_agent("sue@desk.example", role=User.Role.SUPERVISOR))
    assert scrape(client).status_code == 200


def test_it_exposes_tickets_sla_intake_and_worker_lag(client, desk):
    response = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = set(response.content.decode().splitlines())
    assert 'supportdesk_tickets_opened_total{channel="portal"} 2' in lines
    assert 'supportdesk_tickets_opened_total{channel="email"} 2' in lines
    assert 'supportdesk_open_tickets{queue="customer"} 3' in lines
    assert 'supportdesk_open_tickets{queue="unidentified"} 1' in lines
    assert "supportdesk_sla_breaches_total 1" in lines
    assert "supportdesk_sla_warnings_total 0" in lines  # the worker came too late to warn
    assert 'supportdesk_intake_latency_seconds_count{channel="portal"} 2' in lines
    assert 'supportdesk_intake_latency_seconds_bucket{channel="email",le="+Inf"} 2' in lines
    # Gold Medium by email is due at 15:00 UTC; the Low one later. Nothing waits now:
    assert "supportdesk_worker_lag_seconds 0" in lines


def test_worker_lag_shows_a_due_moment_nobody_claimed(client, desk):
    desk.move_to(MONDAY_9_BRT + timedelta(hours=5))  # the email ticket's warning (4 h 30) waited 30 min
    lines = set(scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode().splitlines())
    assert "supportdesk_worker_lag_seconds 1800" in lines


def _database_url(connection) -> str:
    """The URL of the test database, for a command run in another process."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgresql://{conf.get('USER') or 'postgres'}@{host}:{port}/{conf['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_short_lived_ingest_command_still_counts_its_intake_latency(tmp_path):
    import os
    import subprocess
    import sys

    from django.db import connection

    from supportdesk.sla.models import IntakeLatencyBucket

    mail = tmp_path / "hello.eml"
    mail.write_bytes(
        b"From: Someone <someone@gmail.com>\r\nTo: support@supportdesk.localhost\r\n"
        b"Subject: Printer on fire\r\nMessage-ID: <latency-1@gmail.com>\r\n\r\nHelp!\r\n"
    )
    env = {**os.environ, "SUPPORTDESK_DATABASE_URL": _database_url(connection)}
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "ingest-email", str(mail)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"action": "created"' in done.stdout
    # The command ends long before the periodic flush: the exit hook must have written it.
    counted = IntakeLatencyBucket.objects.filter(channel="email").values_list("count", flat=True)
    assert max(counted, default=0) >= 1
