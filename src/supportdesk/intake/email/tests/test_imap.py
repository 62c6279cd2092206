"""IMAP polling against a real Dovecot over TLS."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from imap_tools import AND, MailBox

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.imap import MailboxConfig, fetch_mail
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.tests.dovecot import start_dovecot, stop_dovecot
from supportdesk.intake.email.tests.helpers import make_mail
from supportdesk.tickets.models import Ticket


@pytest.fixture(scope="module")
def dovecot():
    # Not pytest's tmp_path: its parent is private to root, and Dovecot's auth process
    # runs as the dovecot user, which must read the passwd-file.
    root = Path(tempfile.mkdtemp(prefix="supportdesk-dovecot-"))
    server = start_dovecot(root)
    yield server
    stop_dovecot(server)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox_config(dovecot):
    config = MailboxConfig(host=dovecot.host, port=dovecot.port, user=dovecot.user,
                           password=dovecot.password, ca_file=dovecot.ca_file)
    with _open(config) as mailbox:  # each test starts with an empty inbox
        uids = mailbox.uids()
        if uids:
            mailbox.delete(uids)
        if not mailbox.folder.exists("Processed"):
            mailbox.folder.create("Processed")
    return config


def _open(config: MailboxConfig) -> MailBox:
    return MailBox(config.host, config.port, ssl_context=config.ssl_context()).login(
        config.user, config.password
    )


def _deliver(config: MailboxConfig, *raws: bytes) -> None:
    with _open(config) as mailbox:
        for raw in raws:
            mailbox.append(raw, "INBOX", flag_set=())


pytestmark = pytest.mark.django_db


def test_it_turns_unseen_mailbox_messages_into_tickets_and_marks_them_seen(mailbox_config):
    make_customer(slug="acme", domains=["acme.example"], plan="gold")
    _deliver(mailbox_config, make_mail(), make_mail(sender="x@gmail.com"))
    outcomes = fetch_mail(mailbox_config)
    assert [o.action for o in outcomes] == ["created", "created"]
    assert sorted(o.queue for o in outcomes) == ["customer", "unidentified"]
    assert InboundMail.objects.filter(route="imap").count() == 2
    with _open(mailbox_config) as mailbox:
        assert list(mailbox.uids(AND(seen=False))) == []
    assert fetch_mail(mailbox_config) == []  # nothing new: nothing happens


def test_it_leaves_a_message_unseen_when_the_ticket_did_not_commit(mailbox_config, monkeypatch):
    from supportdesk.intake.email import imap

    def crash(row, **kwargs):
        raise RuntimeError("worker killed")

    _deliver(mailbox_config, make_mail())
    monkeypatch.setattr(imap, "process_mail", crash)
    with pytest.raises(RuntimeError):
        fetch_mail(mailbox_config)
    with _open(mailbox_config) as mailbox:
        assert len(list(mailbox.uids(AND(seen=False)))) == 1
    monkeypatch.undo()
    # The next poll fetches it again: the stored copy is processed once, as one ticket.
    outcomes = fetch_mail(mailbox_config)
    assert [o.action for o in outcomes] == ["duplicate"]
    from supportdesk.intake.email.process import process_mail

    for row in InboundMail.objects.filter(status="stored"):
        process_mail(row)
    assert Ticket.objects.count() == 1


def test_it_moves_processed_messages_when_configured(mailbox_config):
    from dataclasses import replace

    config = replace(mailbox_config, move_to="Processed")
    _deliver(config, make_mail())
    [outcome] = fetch_mail(config)
    assert outcome.action == "created"
    with _open(config) as mailbox:
        assert list(mailbox.uids()) == []
        mailbox.folder.set("Processed")
        assert len(list(mailbox.uids())) == 1


def test_it_refuses_a_server_whose_certificate_it_cannot_verify(mailbox_config):
    import ssl
    from dataclasses import replace

    with pytest.raises(ssl.SSLError):
        fetch_mail(replace(mailbox_config, ca_file=""))
