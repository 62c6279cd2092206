"""Ticket-opening speed: N requests through the one intake service, one commit per
ticket and then with group commit.

    .venv/bin/python bench/open_tickets.py [--tickets 10000] [--database sqlite|postgresql|both]
                                           [--batch 100] [--profile]
                                           [--postgres postgresql://postgres@127.0.0.1:5432]

Each ticket is the real per-ticket path a channel takes: `intake.service.receive` ->
identify the sender (domain / phone / signed-in contact) -> the account's effective
subscription at the opening time -> the policy's SLA decision -> `tickets.actions.
open_ticket` (a number from the counter row, the ticket, its first message, its
opening event) -> the after-commit hooks. Two figures, each over `--tickets` tickets:
one transaction per ticket (`receive`, what a web request or a single mail does), and
group commit (`receive_many`: `--batch` requests per transaction, a savepoint each,
what a bulk caller does).

The mix: 55% email from a customer domain (contacts and non-contacts), 15% email from
free-mail (unidentified queue), 20% portal (a point of contact, chosen severity), 10%
hotline (phone lookup). Accounts come from ../shared/bench/accounts.json plus a few
generated ones, imported with `supportdesk import accounts`'s code.

SQLite runs in a fresh file in a temporary directory with the product's settings (WAL,
synchronous=FULL, IMMEDIATE transactions); PostgreSQL in a fresh database that is
dropped afterwards. Prints tickets/second and statements/ticket per database and path.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _setup_django(database_url: str | None, data_dir: str) -> None:
    os.environ["SUPPORTDESK_DATA_DIR"] = data_dir
    os.environ["SUPPORTDESK_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["SUPPORTDESK_LOG_LEVEL"] = "ERROR"
    if database_url:
        os.environ["SUPPORTDESK_DATABASE_URL"] = database_url
    else:
        os.environ.pop("SUPPORTDESK_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    import django

    django.setup()


def _prepare() -> None:
    from django.core.management import call_command

    from supportdesk.accounts.transfer import import_accounts, read_json
    from supportdesk.clock import now

    call_command("migrate", interactive=False, verbosity=0)
    records = read_json((SHARED / "bench" / "accounts.json").read_text())
    import_accounts(records, now=now())
    extra = []
    for i in range(20):
        extra.append(
            {
                "slug": f"bench{i}",
                "name": f"Bench Customer {i}",
                "domains": [f"bench{i}.example"],
                "subscription": {"plan": "mission-critical" if i % 2 else "plus",
                                 "status": "active", "starts": "2025-01-01"},
                "contacts": [
                    {"email": f"poc{j}@bench{i}.example", "name": f"POC {j}",
                     "point_of_contact": j == 0, "phone": f"+55 11 9{i:02d}{j:02d}-{1000 + j:04d}"}
                    for j in range(5)
                ],
            }
        )
    from supportdesk.accounts.transfer import Located

    import_accounts([Located(e, f"bench[{n}]") for n, e in enumerate(extra)], now=now())


def _requests(count: int, seed: int) -> list[object]:
    from supportdesk.accounts.models import Contact
    from supportdesk.intake.service import InboundRequest

    rng = random.Random(seed)
    contacts = list(Contact.objects.select_related("account").order_by("email"))
    points = [c for c in contacts if c.is_point_of_contact]
    phones = [c.phone for c in contacts if c.phone]
    domains = ["acme.io", "empresa.com.br", "example.org"] + [f"bench{i}.example" for i in range(20)]
    free = ["gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br"]
    start = datetime(2025, 11, 3, 11, 0, tzinfo=UTC)
    out = []
    for n in range(count):
        received = start + timedelta(seconds=37 * n)
        roll = rng.random()
        body = f"Request {n}: the nightly export failed with error E{rng.randint(100, 999)}.\n" * 3
        if roll < 0.55:
            if rng.random() < 0.5:
                sender = rng.choice(contacts).email
            else:
                sender = f"user{rng.randint(1, 5000)}@{rng.choice(domains)}"
            out.append(InboundRequest(channel="email", sender_email=sender, sender_name="Someone",
                                      subject=f"Export failed ({n})", body_text=body,
                                      body_html=f"<p>{body}</p>", received_at=received,
                                      authenticated=True, message_id=f"<bench-{n}@mail.example>"))
        elif roll < 0.70:
            out.append(InboundRequest(channel="email",
                                      sender_email=f"person{rng.randint(1, 9999)}@{rng.choice(free)}",
                                      subject=f"Question {n}", body_text=body, received_at=received))
        elif roll < 0.90:
            out.append(InboundRequest(channel="portal", contact=rng.choice(points),
                                      subject=f"Portal request {n}", body_text=body,
                                      requested_severity=rng.choice(["low", "medium", "high"]),
                                      received_at=received))
        else:
            out.append(InboundRequest(channel="hotline", sender_phone=rng.choice(phones),
                                      subject=f"Call {n}", body_text=body, received_at=received))
    return out


@dataclass
class Result:
    rate: float  # tickets per wall-clock second, whole run
    best_window: float  # tickets per second in the fastest window of WINDOW tickets
    cpu_rate: float  # tickets per second of this process's CPU time
    queries: float  # SQL statements per ticket (BEGIN/COMMIT included)


WINDOW = 1000


def _open(requests: list[object], batch: int) -> None:
    """Open the tickets one commit each (batch 0) or `batch` per commit (receive_many)."""
    from supportdesk.intake.service import receive, receive_many

    if not batch:
        for request in requests:
            receive(request)  # type: ignore[arg-type]
        return
    for start in range(0, len(requests), batch):
        results = receive_many(requests[start : start + batch])  # type: ignore[arg-type]
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]


def _run(requests: list[object], batch: int, profile: bool) -> Result:
    from django.db import connection, reset_queries

    from supportdesk.tickets.models import Ticket

    before = Ticket.objects.count()
    connection.force_debug_cursor = True
    reset_queries()
    _open(requests[:200], batch)
    queries_per_ticket = len(connection.queries) / 200
    connection.force_debug_cursor = False
    reset_queries()
    timed = requests[200:]
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    windows = []
    started, cpu_started = time.perf_counter(), time.process_time()
    window_started = started
    step = max(batch, 1)
    for n in range(0, len(timed), WINDOW):
        for chunk in range(n, min(n + WINDOW, len(timed)), step):
            _open(timed[chunk : chunk + step], batch)
        if n + WINDOW <= len(timed):
            now = time.perf_counter()
            windows.append(WINDOW / (now - window_started))
            window_started = now
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler:
        profiler.disable()
    assert Ticket.objects.count() == before + len(requests)
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", "30"))
        )
    rate = len(timed) / elapsed
    return Result(
        rate=rate,
        best_window=max(windows, default=rate),
        cpu_rate=len(timed) / cpu,
        queries=queries_per_ticket,
    )


def _sqlite_baseline(synchronous: str, data_dir: str | None, count: int = 2000) -> float:
    """What this disk and CPU allow right now: bare sqlite3, WAL, one transaction per
    ticket with four inserts (the reference the shared bench README quotes)."""
    import sqlite3

    with tempfile.TemporaryDirectory(prefix="supportdesk-bench-", dir=data_dir) as folder:
        db = sqlite3.connect(os.path.join(folder, "baseline.sqlite3"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        for name in ("raw", "ticket", "message", "event"):
            db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, ref INTEGER, body TEXT)")
        started = time.perf_counter()
        for n in range(count):
            db.execute("BEGIN IMMEDIATE")
            for name in ("raw", "ticket", "message", "event"):
                db.execute(f"INSERT INTO {name} (ref, body) VALUES (?, ?)", (n, "x" * 200))
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return count / elapsed


def _one(database: str, args: argparse.Namespace) -> None:
    """Run in a child process so each database gets a fresh Django."""
    import subprocess

    command = [sys.executable, __file__, "--child", database, "--tickets", str(args.tickets),
               "--seed", str(args.seed), "--postgres", args.postgres,
               "--sqlite-synchronous", args.sqlite_synchronous]
    command += ["--batch", str(args.batch)]
    if args.without_hooks:
        command.append("--without-hooks")
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if args.profile:
        command.append("--profile")
    subprocess.run(command, check=True)


def _child(database: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="supportdesk-bench-", dir=args.data_dir) as data_dir:
        url = None
        pg_name = None
        if database == "postgresql":
            import psycopg

            pg_name = f"supportdesk_bench_{os.getpid()}"
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{pg_name}"')
            url = f"{args.postgres}/{pg_name}"
        try:
            _setup_django(url, data_dir)
            from django.db import connection

            _prepare()
            if args.without_hooks:
                from supportdesk.tickets import notify

                for kind in notify.HOOKS:
                    notify.HOOKS[kind] = ()
                notify._hooks_for.cache_clear()
            if connection.vendor == "sqlite" and args.sqlite_synchronous != "full":
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA synchronous={args.sqlite_synchronous.upper()}")
            requests = _requests(args.tickets * 2, args.seed)
            # Warm up (first policy load, first queries) on a few extra requests, not timed.
            _open(_requests(20, args.seed + 1), 0)
            sync = f", synchronous={args.sqlite_synchronous}" if database == "sqlite" else ""
            if database == "sqlite" and args.data_dir:
                sync += f", file in {args.data_dir}"
            sync += ", without hooks" if args.without_hooks else ", with the registered hooks"
            print(f"{database}{sync} ({connection.vendor}, Python {sys.version.split()[0]}):")
            for label, batch, part in (
                ("one commit per ticket (intake.service.receive)", 0, requests[: args.tickets]),
                (f"group commit, {args.batch} per commit (intake.service.receive_many)", args.batch,
                 requests[args.tickets :]),
            ):
                if batch and not args.batch:
                    continue
                result = _run(part, batch, args.profile)
                print(
                    f"  {label}: {args.tickets} tickets: {result.rate:,.0f} tickets/s "
                    f"(fastest {WINDOW:,}: {result.best_window:,.0f}/s; "
                    f"per CPU-second of this process: {result.cpu_rate:,.0f}/s), "
                    f"{result.queries:.1f} statements/ticket",
                    flush=True,
                )
        finally:
            if pg_name:
                from django.db import connections

                from supportdesk.sla import metrics

                # Record buffered intake latencies now: at exit the database is gone.
                metrics.flush_intake_latency()
                connections.close_all()
                import psycopg

                with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default=os.environ.get(
        "SUPPORTDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the timed part")
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="tickets per commit for the group-commit figure (intake.service.receive_many); "
        "0 leaves it out",
    )
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["full", "normal"],
        default="full",
        help="SQLite durability: full (the product's setting: every commit waits for the disk) "
        "or normal (WAL still consistent, but the last commits may be lost on power failure; "
        "shows the cost of the code path without the disk's fsync latency)",
    )
    parser.add_argument(
        "--without-hooks",
        action="store_true",
        help="leave out the after-commit hooks other parts register in tickets.notify.HOOKS "
        "(e.g. on-call paging), to time the intake path alone",
    )
    parser.add_argument(
        "--data-dir",
        help="where the SQLite file lives (default: a temporary directory on the normal disk; "
        "/dev/shm takes the disk out and times the CPU cost of the path alone)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args)
        return
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "sqlite" in databases:
        rate = _sqlite_baseline(args.sqlite_synchronous, args.data_dir)
        print(
            f"baseline (bare sqlite3, WAL, synchronous={args.sqlite_synchronous}, one transaction "
            f"with four inserts): {rate:,.0f}/s"
        )
    for database in databases:
        _one(database, args)


if __name__ == "__main__":
    main()
