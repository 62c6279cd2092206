"""Page speed of the console's queue and the portal's ticket list on a big desk.

    .venv/bin/python bench/console_pages.py [--tickets 100000] [--open 20000] [--runs 30]
                                            [--postgres postgresql://postgres@127.0.0.1:5432]
                                            [--keep]

Seeds a fresh PostgreSQL database with bulk inserts (seeding speed is not measured):
300 accounts on a mix of plans and statuses, 5 contacts each, 4 specialists, `--tickets`
tickets of which `--open` are open (queues customer / unidentified / review, every
severity and channel, due times around now), one message per ticket. Then requests
each page `--runs` times through Django's full request path (middleware, session,
view, selectors, template) with a signed-in user and prints the median and p90 server
time and the number of SQL queries of one request. The database is dropped afterwards
unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

ACCOUNTS = 300
CONTACTS_PER_ACCOUNT = 5
PLANS = ["gold", "silver", "plus", "mission-critical", "standard", "bronze", "enterprise", "pro"]
COVERAGE = {"standard": "12x5"}
TARGETS = {"high": timedelta(minutes=30), "medium": timedelta(hours=6), "low": timedelta(hours=24)}


def setup_django(database_url: str) -> None:
    os.environ["SUPPORTDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="supportdesk-bench-")
    os.environ["SUPPORTDESK_DATABASE_URL"] = database_url
    os.environ["SUPPORTDESK_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["SUPPORTDESK_LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    import django

    django.setup()


def seed(*, tickets: int, open_tickets: int, now: datetime) -> dict[str, object]:
    from django.core.management import call_command
    from django.db import connection

    from supportdesk.accounts.models import Account, AccountDomain, Contact, Subscription, User
    from supportdesk.tickets.models import Message, Ticket, TicketSequence

    rng = random.Random(7)
    call_command("migrate", interactive=False, verbosity=0)
    agents = [
        User.objects.create_user(f"agent{i}@desk.example", "bench-password-1", name=f"Agent {i}", role="specialist")
        for i in range(4)
    ]
    accounts = Account.objects.bulk_create(
        [Account(slug=f"acct{i}", name=f"Customer {i:03d}", created_at=now) for i in range(ACCOUNTS)]
    )
    AccountDomain.objects.bulk_create(
        [AccountDomain(account=a, domain=f"acct{i}.example") for i, a in enumerate(accounts)]
    )
    plans = {}
    subscriptions = []
    for i, account in enumerate(accounts):
        plan = PLANS[i % len(PLANS)]
        status = "trial" if i % 23 == 0 else "expired" if i % 29 == 0 else "active"
        plans[account.pk] = (plan, status)
        subscriptions.append(Subscription(account=account, plan=plan, status=status,
                                          starts=date(2021, 1, 1), recorded_at=now))
    Subscription.objects.bulk_create(subscriptions)
    users = User.objects.bulk_create(
        [User(email=f"c{j}@acct{i}.example", name=f"Contact {j} of {i}", role="contact", password="!")
         for i in range(ACCOUNTS) for j in range(CONTACTS_PER_ACCOUNT)]
    )
    contacts = Contact.objects.bulk_create(
        [Contact(account=accounts[k // CONTACTS_PER_ACCOUNT], email=u.email, name=u.name,
                 is_point_of_contact=k % CONTACTS_PER_ACCOUNT == 0, user=u, created_at=now)
         for k, u in enumerate(users)]
    )
    # A few big accounts: account 0 holds 10% of all tickets (the portal's worst case).
    weights = [len(accounts) // 10 * 9 if i == 0 else 1 for i in range(len(accounts))]
    batch: list[Ticket] = []
    number = 0
    open_statuses = ["new", "open", "pending"]

    def flush() -> None:
        created = Ticket.objects.bulk_create(batch)
        Message.objects.bulk_create(
            [Message(ticket=t, kind="customer", author_contact_id=t.requester_id,
                     author_email=t.requester_email, body_text=f"Details of {t.subject}. Error code {t.number % 997}.",
                     created_at=t.opened_at) for t in created]
        )
        batch.clear()

    for n in range(tickets):
        number += 1
        is_open = n < open_tickets
        queue = "unidentified" if n % 20 == 0 else "review" if n % 97 == 0 else "customer"
        account = None if queue != "customer" else rng.choices(accounts, weights)[0]
        requester = contacts[accounts.index(account) * CONTACTS_PER_ACCOUNT + rng.randrange(CONTACTS_PER_ACCOUNT)] if account else None
        severity = rng.choice(["low", "medium", "high"])
        channel = rng.choice(["portal", "email", "hotline"]) if account else "email"
        if is_open:
            opened = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 10))
        else:
            opened = now - timedelta(minutes=rng.randrange(60 * 24 * 10, 60 * 24 * 730))
        plan, status = plans[account.pk] if account else ("", "")
        has_sla = bool(account) and status != "expired"
        due = opened + TARGETS[severity] if has_sla else None
        responded = None if is_open and rng.random() < 0.7 else opened + timedelta(minutes=rng.randrange(5, 600))
        batch.append(Ticket(
            number=number, account=account, requester=requester,
            requester_email=requester.email if requester else f"someone{n}@gmail.com",
            requester_name=requester.name if requester else "", queue=queue, channel=channel,
            severity=severity, status=rng.choice(open_statuses) if is_open else rng.choice(["solved", "closed"]),
            subject=f"Problem {number}: {rng.choice(['checkout', 'reports', 'login', 'export', 'sync'])} fails",
            opened_at=opened, updated_at=opened,
            assignee=rng.choice([None, None, *agents]),
            first_response_due=due, sla_target="30 min" if due else "",
            sla_coverage=COVERAGE.get(plan, "24x7") if due else "", sla_terms_plan=plan if due else "",
            sla_plan=plan, sla_account_status=status, sla_policy_version="bench",
            sla_reasons=["bench"], first_responded_at=responded,
            first_response_met=(responded <= due) if (responded and due) else None,
            next_sla_at=due if (due and not responded) else None,
        ))
        if len(batch) == 5000:
            flush()
    if batch:
        flush()
    TicketSequence.objects.update(last=number)
    if not TicketSequence.objects.exists():
        TicketSequence.objects.create(last=number)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does on a live desk
    return {"specialist": agents[0], "contact": contacts[0].user, "account": accounts[0]}


def measure(client, url: str, runs: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches, the policy, templates
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    rows = response.content.count(b'class="subject"')
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.9) - 1], len(queries), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("SUPPORTDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    import psycopg

    name = f"supportdesk_bench_pages_{int(time.time())}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        setup_django(f"{args.postgres}/{name}")
        from django.test import Client

        now = datetime.now(UTC)
        started = time.perf_counter()
        people = seed(tickets=args.tickets, open_tickets=args.open, now=now)
        print(f"seeded {args.tickets:,} tickets ({args.open:,} open) in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        pages = []
        staff = Client(HTTP_HOST="127.0.0.1")
        staff.force_login(people["specialist"])
        customer = Client(HTTP_HOST="127.0.0.1")
        customer.force_login(people["contact"])
        for label, client, url in (
            ("console queue (customer, page 1)", staff, "/console/?queue=customer"),
            ("console queue (customer, page 50)", staff, "/console/?queue=customer&page=50"),
            ("console queue (breaching soon)", staff, "/console/?queue=breaching"),
            ("console queue (unassigned)", staff, "/console/?queue=unassigned"),
            ("console search (account)", staff, "/console/?queue=customer&account=acct0"),
            ("portal ticket list (biggest account)", customer, "/portal/"),
            ("portal ticket list (open)", customer, "/portal/?status=open"),
        ):
            median, p90, queries, rows = measure(client, url, args.runs)
            pages.append((label, median, p90, queries, rows))
        print(f"{'page':40} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'rows':>5}")
        for label, median, p90, queries, rows in pages:
            print(f"{label:40} {median:10.1f} {p90:8.1f} {queries:8d} {rows:5d}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
