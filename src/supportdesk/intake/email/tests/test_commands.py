"""The commands an operator runs: ingest-email, doctor."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.tests.helpers import make_mail

pytestmark = pytest.mark.django_db


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_it_prints_one_json_line_per_message_from_files_and_a_maildir(tmp_path):
    make_customer(slug="acme", domains=["acme.example"], plan="gold")
    (tmp_path / "new").mkdir()
    (tmp_path / "cur").mkdir()
    (tmp_path / "new" / "1.eml").write_bytes(make_mail())
    (tmp_path / "cur" / "2.eml").write_bytes(make_mail(sender="x@gmail.com"))
    single = tmp_path / "single.eml"
    single.write_bytes(make_mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail",
                                 extra="Return-Path: <>"))
    out = io.StringIO()
    call_command("ingest-email", str(single), "--maildir", str(tmp_path), stdout=out)
    lines = _lines(out)
    assert [line["action"] for line in lines] == ["ignored", "created", "created"]
    for line in lines:
        assert set(line) >= {"message_id", "action", "ticket", "account", "queue", "severity",
                             "first_response_due", "reasons"}
    assert lines[1]["account"] == "acme" and lines[1]["first_response_due"].endswith("Z")
    assert lines[2]["queue"] == "unidentified" and lines[2]["first_response_due"] is None


def test_it_reads_one_message_from_stdin(monkeypatch):
    raw = make_mail(sender="someone@gmail.com")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("ingest-email", stdout=out)
    [line] = _lines(out)
    assert line["action"] == "created" and line["queue"] == "unidentified"


def test_it_names_a_missing_file():
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest-email", "/nonexistent/mail.eml", stdout=io.StringIO())


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID="")
def test_doctor_warns_that_domain_identification_can_be_spoofed():
    err = io.StringIO()
    call_command("doctor", stdout=io.StringIO(), stderr=err)
    assert "SUPPORTDESK_MTA_AUTHSERV_ID is not set" in err.getvalue()


@override_settings(SUPPORTDESK_MTA_AUTHSERV_ID="mx.desk.example")
def test_doctor_is_quiet_about_spoofing_when_the_authserv_id_is_set():
    err, out = io.StringIO(), io.StringIO()
    call_command("doctor", stdout=out, stderr=err)
    assert "SUPPORTDESK_MTA_AUTHSERV_ID" not in err.getvalue()
    assert "mx.desk.example" in out.getvalue()


def test_it_asks_the_mta_to_retry_when_the_database_cannot_store(monkeypatch, tmp_path):
    from django.db import OperationalError

    from supportdesk.intake.email import bulk

    def broken(mails):
        raise OperationalError("database is locked")

    monkeypatch.setattr(bulk, "store_mails", broken)
    path = tmp_path / "m.eml"
    path.write_bytes(make_mail())
    with pytest.raises(SystemExit) as exited:
        call_command("ingest-email", str(path), stdout=io.StringIO())
    assert exited.value.code == 75
