"""The peer of bench/open_tickets.py: django-helpdesk 2.6.1 creating tickets, two ways.

    .venv/bin/python bench/peers/django_helpdesk_tickets.py [--tickets 10000]
        [--databases sqlite-wal,sqlite,postgresql] [--ways bare,form]
        [--postgres postgresql://postgres@127.0.0.1:5432]

The two ways issue 3 quotes for the peer ("about 1,000 tickets/s as a bare one-row
insert and about 100/s through its own ticket form"):

- "bare insert": `Ticket.objects.create(title=..., queue=...)`, the minimum fields (the
  rest are defaults: created/modified, status, priority, secret_key), in Django's
  default autocommit, i.e. one transaction per ticket.
- "ticket form": the form its staff "create ticket" view (`CreateTicketView`) handles
  per POST: `helpdesk.forms.TicketForm` bound to the posted fields (queue, title, body,
  priority, submitter e-mail, no owner), `is_valid()`, `save(user=staff user)`: the
  ticket, its "Ticket Opened" follow-up, the acknowledgement to the submitter (Django's
  in-memory mail backend), the follow-up's recipients saved, the backlinks scan; 10
  statements per ticket, as the issue says. Autocommit as in the view (no
  ATOMIC_REQUESTS). The view's own work is left out: the user's queue choices
  (`get_user_queues`, 2 more statements per request) are computed once, and the
  response's rendering and redirect are not done.

Each (database, way) starts from a fresh database (bench/peers/django_helpdesk.py's
`fresh_database`: a new SQLite file in WAL mode with synchronous=FULL as ours, a new
SQLite file in the default journal, or a new PostgreSQL database dropped afterwards),
migrated, with one queue and one staff user. 100 tickets are created first, untimed,
to count statements; then --tickets tickets are timed. Runs in the peer's virtualenv
(var/bench-peers/django-helpdesk-2.6.1/, the same one django_helpdesk.py creates and
reuses).

stdout: one JSON line per (database, way): {"peer", "database", "way", "tickets",
"seconds", "rate", "cpu_seconds", "queries_per_ticket", ...}. Progress on stderr only
when stderr is a terminal; errors on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the peer's settings and django_helpdesk.py, also in its venv

from django_helpdesk import (  # noqa: E402
    DATABASES,
    DEFAULT_POSTGRES,
    DEFAULT_VENV,
    PEER,
    ensure_venv,
    fresh_database,
    progress,
    run_in_venv,
    setup_peer_django,
)

WAYS = {"bare": "bare insert", "form": "ticket form"}
COUNTED = 100  # untimed tickets whose statements are counted
# The figures, measured on other machines (database not stated): --peer recorded.
RECORDED = {"bare insert": 1000.0, "ticket form": 100.0}


def _body(n: int) -> str:
    # The same size of text as bench/open_tickets.py's requests.
    return f"Request {n}: the nightly export failed with error E{100 + n % 900}.\n" * 3


def _measure(database: str, way: str, tickets: int) -> dict[str, object]:
    pragmas = setup_peer_django(database)
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from helpdesk.forms import TicketForm
    from helpdesk.models import FollowUp, Queue, Ticket
    from helpdesk.views.staff import get_user_queues

    queue = Queue.objects.create(
        title="Support", slug="support", email_address="support@example.com"
    )
    staff = get_user_model().objects.create_user(
        "agent", "agent@example.com", "not-a-secret", is_staff=True
    )
    mail.outbox = []
    queue_choices = get_user_queues(staff)  # the view's part, not the form's

    def bare(n: int) -> None:
        Ticket.objects.create(title=f"Export failed ({n})", queue=queue)

    def form(n: int) -> None:
        bound = TicketForm(
            data={
                "queue": str(queue.id),
                "title": f"Export failed ({n})",
                "body": _body(n),
                "priority": "3",
                "submitter_email": f"user{n % 5000}@customer.example",
                "assigned_to": "",
            },
            files={},
            queue_choices=queue_choices,
        )
        if not bound.is_valid():
            raise SystemExit(f"{PEER}: TicketForm refused the ticket: {bound.errors.as_json()}")
        bound.save(user=staff)

    create = bare if way == "bare insert" else form
    with CaptureQueriesContext(connection) as captured:
        for n in range(COUNTED):
            create(n)
    queries = len(captured.captured_queries) / COUNTED
    started_cpu = time.process_time()
    started = time.perf_counter()
    step = max(tickets // 10, 1)
    for n in range(COUNTED, COUNTED + tickets):
        create(n)
        if (n - COUNTED + 1) % step == 0:
            progress(f"{PEER} on {database}, {way}: {n - COUNTED + 1} of {tickets}")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - started_cpu
    made = Ticket.objects.count()
    if made != COUNTED + tickets:
        raise SystemExit(f"{PEER} on {database}, {way}: {made} tickets, not {COUNTED + tickets}")
    return {
        "peer": PEER,
        "database": database,
        "way": way,
        "tickets": tickets,
        "seconds": round(seconds, 3),
        "rate": round(tickets / seconds, 1),
        # CPU of this process alone (PostgreSQL's server work is another process).
        "cpu_seconds": round(cpu_seconds, 3),
        "cpu_rate": round(tickets / cpu_seconds, 1),
        "queries_per_ticket": round(queries, 1),
        "followups": FollowUp.objects.count(),
        "acknowledgements": len(mail.outbox),
        **pragmas,
        "python": ".".join(map(str, sys.version_info[:3])),
        "django": __import__("django").get_version(),
    }


def child(database: str, way: str, tickets: int, postgres: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="helpdesk-peer-tickets-"))
    (work / "media").mkdir()
    os.environ["HELPDESK_PEER_MEDIA_ROOT"] = str(work / "media")
    try:
        with fresh_database(database, postgres, work):
            result = _measure(database, way, tickets)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result), flush=True)


def measure(
    python: Path, database: str, way: str, tickets: int, postgres: str
) -> dict[str, object]:
    """One (database, way) in a child process with the peer's interpreter."""
    return run_in_venv(
        python,
        Path(__file__).resolve(),
        ["--child", database, "--way", way, "--tickets", str(tickets), "--postgres", postgres],
        f"{PEER} on {database}, {way}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000, help="timed tickets per run")
    parser.add_argument(
        "--databases",
        default="sqlite-wal,sqlite,postgresql",
        help="comma-separated: " + ", ".join(DATABASES),
    )
    parser.add_argument("--ways", default="bare,form", help="comma-separated: bare, form")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="server URL without a database name (default %(default)s)",
    )
    parser.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help="the peer's virtualenv (default %(default)s)"
    )
    parser.add_argument("--child", choices=list(DATABASES.values()), help=argparse.SUPPRESS)
    parser.add_argument("--way", choices=list(WAYS.values()), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tickets < 1:
        parser.error("--tickets must be at least 1")
    postgres = args.postgres.rstrip("/")
    if args.child:
        child(args.child, args.way, args.tickets, postgres)
        return
    names = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES and name not in DATABASES.values()]
    if unknown:
        parser.error(f"unknown database {unknown}; use {', '.join(DATABASES)}")
    ways = [name.strip() for name in args.ways.split(",") if name.strip()]
    if not ways or any(way not in WAYS for way in ways):
        parser.error(f"--ways: use {', '.join(WAYS)}")
    python = ensure_venv(args.venv.resolve())
    for name in names:
        database = DATABASES.get(name, name)
        for way in ways:
            progress(f"{PEER} on {database}, {WAYS[way]}: migrating a fresh database")
            result = measure(python, database, WAYS[way], args.tickets, postgres)
            progress(
                f"{PEER} on {database}, {WAYS[way]}: {result['rate']} tickets/s, "
                f"{result['queries_per_ticket']} statements/ticket"
            )
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
