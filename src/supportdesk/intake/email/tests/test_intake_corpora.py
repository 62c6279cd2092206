"""Every corpus message goes through the whole intake (store, parse, route, ticket)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from supportdesk.accounts.testing import make_customer
from supportdesk.intake.email.bulk import ingest_many
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.store import RawMail
from supportdesk.intake.email.tests.shared import corpora, corpus_files
from supportdesk.intake.email.tests.test_parse_corpora import FORWARDED_BY_A_PERSON
from supportdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Domains the corpora's senders use, registered as customers so that a bounce or report
# wrongly taken for a customer's mail would show up in a customer queue.
CUSTOMER_DOMAINS = ["example.com", "example.jp", "example.org", "example.net", "example.co.jp"]


def test_it_takes_every_corpus_message_through_intake_without_an_error():
    make_customer(slug="examples", domains=CUSTOMER_DOMAINS, plan="gold", contacts=[])
    files = corpus_files("zammad-mail", "mikel-mail", "flanker-messages", "sisimai-bounces")
    assert len(files) >= 880, f"corpora missing under {corpora()}"
    outcomes = {}

    def keep(outcome):
        outcomes[outcome.inbound_id] = outcome

    stored = ingest_many(
        (RawMail(raw=p.read_bytes(), route="maildir", origin=str(p)) for p in files),
        on_outcome=keep,
    )
    assert stored == len(files) == len(outcomes)
    rows = InboundMail.objects.all()
    assert not rows.exclude(status="processed").exists()
    assert not rows.exclude(error="").exists(), list(rows.exclude(error="").values_list("origin", "error")[:5])

    by_path = {row.origin: outcomes[row.pk] for row in rows.only("pk", "origin")}
    index = json.loads((corpora() / "autoreply-bounce-index.json").read_bytes())["entries"]
    for entry in index:
        outcome = by_path[str(corpora() / entry["path"])]
        if entry["path"] in FORWARDED_BY_A_PERSON:
            continue  # a person's mail (see test_parse_corpora)
        if entry["category"] in ("bounce", "feedback_report", "disposition_notification"):
            assert outcome.queue != "customer", entry["path"]
            assert not outcome.acknowledged, entry["path"]
        if entry["category"] == "auto_reply":
            assert not outcome.acknowledged, entry["path"]
    actions = Counter(o.action for o in outcomes.values())
    assert set(actions) <= {"created", "review", "ignored", "duplicate", "appended"}
    assert Ticket.objects.count() == actions["created"] + actions["review"]
