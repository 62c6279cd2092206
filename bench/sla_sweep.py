"""SLA runtime speed on a big desk: the worker's sweep, the monthly report, policy replay.

    .venv/bin/python bench/sla_sweep.py [--tickets 1000000] [--open 100000] [--due 500]
                                        [--runs 20] [--postgres postgresql://postgres@127.0.0.1:5432]
                                        [--keep NAME | --reuse NAME]

Seeds a fresh PostgreSQL database (not measured) with 2,000 accounts on every plan and
status and `--tickets` tickets, `--open` of them open, with real SLA decisions: each
group of (plan, status, channel, severity) is decided by the default policy and its due
times computed by the batch business-time engine; answered tickets carry their real
outcome. The data goes in with COPY. Open unanswered tickets carry their next SLA
moment in `next_sla_at` as the worker leaves it (the warning moment, else the due
time), with `--due` of them come due just now (what one sweep finds). Then measures:

1. the sweep's find + claim (`sla.sweep.claim_due`, in a transaction rolled back after
   each run so every run sees the same rows): what comes due during one 15 s sweep
   interval once the backlog is handled (the steady state), one claim batch, the whole
   `--due` backlog (a worker back from downtime), and nothing due;
2. the monthly compliance report for all accounts (`sla.reports.compliance` for the
   last full month: every dimension, first-response median/p90 on each ticket's clock);
3. `supportdesk policy replay` over the whole table with a changed Gold target.

Prints the figures (median and p90 of `--runs` runs for 1-2; one run for 3).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

ACCOUNTS = 2_000
PLANS = ["gold", "silver", "plus", "mission-critical", "standard", "bronze", "enterprise", "pro"]
GOLD = 'targets = { low = "1 business day", medium = "6 h", high = "30 min" }'
COLUMNS = (
    "number", "account_id", "requester_email", "requester_phone", "requester_name", "queue",
    "channel", "severity", "status", "subject", "opened_at", "updated_at", "first_response_due",
    "sla_target", "sla_coverage", "sla_terms_plan", "sla_plan", "sla_account_status",
    "sla_channel_allowed", "sla_policy_version", "sla_reasons", "first_responded_at",
    "first_response_met", "next_sla_at",
)


def setup_django(database_url: str) -> None:
    os.environ["SUPPORTDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="supportdesk-bench-")
    os.environ["SUPPORTDESK_DATABASE_URL"] = database_url
    os.environ["SUPPORTDESK_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["SUPPORTDESK_LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    import django

    django.setup()


def seed(*, tickets: int, open_tickets: int, due_now: int, now: datetime) -> None:
    import numpy as np
    from django.core.management import call_command
    from django.db import connection

    from supportdesk.accounts.models import Account, Subscription, User
    from supportdesk.core.policy_source import active_policy
    from supportdesk.policy import decide_sla
    from supportdesk.policy.batch import deadlines_after_epoch
    from supportdesk.policy.business_time import deadline_after
    from supportdesk.policy.targets import BusinessDays, parse_target
    from supportdesk.sla.moments import warning_moment
    from supportdesk.tickets.models import TicketSequence

    rng = random.Random(2026)
    call_command("migrate", interactive=False, verbosity=0)
    policy = active_policy()
    for i in range(6):
        User.objects.create_user(f"agent{i}@desk.example", "!", name=f"Agent {i}",
                                 role="supervisor" if i == 0 else "specialist")
    accounts = Account.objects.bulk_create(
        [Account(slug=f"acct{i}", name=f"Customer {i:04d}", created_at=now) for i in range(ACCOUNTS)]
    )
    plan_of = {}
    subscriptions = []
    for i, account in enumerate(accounts):
        status = "trial" if i % 23 == 0 else "expired" if i % 29 == 0 else "active"
        plan_of[account.pk] = (PLANS[i % len(PLANS)], status)
        subscriptions.append(Subscription(account=account, plan=PLANS[i % len(PLANS)], status=status,
                                          starts=date(2021, 1, 1), recorded_at=now))
    Subscription.objects.bulk_create(subscriptions)

    # Draw every ticket, then decide SLAs per group and compute due times in bulk.
    now_s = int(now.timestamp())
    rows = []
    groups: dict[tuple, list[int]] = defaultdict(list)
    for n in range(tickets):
        is_open = n < open_tickets
        unidentified = n % 10 == 0
        account = None if unidentified else accounts[rng.randrange(ACCOUNTS)].pk
        channel = "email" if unidentified else rng.choice(("portal", "portal", "email", "hotline"))
        severity = "medium" if channel == "email" else "high" if channel == "hotline" else rng.choice(
            ("low", "medium", "high"))
        opened = now_s - (rng.randrange(0, 3 * 86_400) if is_open else rng.randrange(10 * 86_400, 730 * 86_400))
        plan, status = plan_of[account] if account else ("", "")
        rows.append([n + 1, account, channel, severity, opened, is_open, plan, status])
        groups[(plan, status, channel, severity)].append(n)
    # A desk inserts tickets as they are opened: store (and number) them in that order.
    order = sorted(range(tickets), key=lambda i: rows[i][4])
    rows = [rows[i] for i in order]
    for number, row in enumerate(rows, start=1):
        row[0] = number
    groups = defaultdict(list)
    for index, row in enumerate(rows):
        groups[(row[6], row[7], row[2], row[3])].append(index)
    due_at = [None] * tickets
    decided = {}
    for (plan, status, channel, severity), members in groups.items():
        decision = decide_sla(policy, plan=plan or None, status=status or None, severity=severity,
                              channel=channel, opened_at=now)
        decided[(plan, status, channel, severity)] = decision
        if decision.target is None:
            continue
        budget = parse_target(decision.target).budget
        calendar = policy.calendars[decision.coverage]
        starts = [rows[i][4] for i in members]
        if isinstance(budget, BusinessDays):
            dues = [int(deadline_after(datetime.fromtimestamp(s, UTC), budget, calendar).timestamp()) for s in starts]
        else:
            dues = deadlines_after_epoch(np.asarray(starts, dtype=np.int64), budget, calendar).tolist()
        for i, due in zip(members, dues, strict=True):
            due_at[i] = due

    def ts(seconds: int | None) -> str | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()

    due_left = due_now
    buffer = []
    for i, (number, account, channel, severity, opened, is_open, plan, status) in enumerate(rows):
        decision = decided[(plan, status, channel, severity)]
        due = due_at[i]
        answered = not is_open or rng.random() < 0.4
        responded = opened + int(rng.lognormvariate(7.5, 1.2)) if answered else None
        if responded is not None and responded > now_s:
            responded = now_s
        met = (responded <= due) if (responded is not None and due is not None) else None
        next_moment = None
        if is_open and not answered and due is not None:
            if due_left > 0:
                next_moment = now_s - rng.randrange(0, 600)  # come due in the last 10 minutes
                due_left -= 1
            else:
                warning = warning_moment(opened_at=datetime.fromtimestamp(opened, UTC),
                                         due=datetime.fromtimestamp(due, UTC), coverage=decision.coverage,
                                         target=decision.target, policy=policy)
                moment = int(warning.timestamp()) if warning else due
                next_moment = moment if moment > now_s else (due if due > now_s else None)
        queue = "unidentified" if account is None else "customer"
        buffer.append((
            number, account, f"someone{number}@gmail.com" if account is None else f"c{number % 7}@acct{account}.example",
            "", "", queue, channel, decision.severity.value,
            rng.choice(("new", "open", "pending")) if is_open else rng.choice(("solved", "closed")),
            f"Problem {number}", ts(opened), ts(opened), ts(due), decision.target or "", decision.coverage or "",
            decision.terms_plan or "", plan, status, decision.channel_allowed, policy.version,
            '["bench"]', ts(responded), met, ts(next_moment),
        ))
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(f"COPY tickets_ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in buffer:
                copy.write_row(row)
        TicketSequence.objects.update_or_create(id=1, defaults={"last": tickets})
        cursor.execute("VACUUM ANALYZE")


def timed(function, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(int(len(timings) * 0.9) - 1, 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=500, help="open tickets whose SLA moment has come")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("SUPPORTDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="use an already seeded database (from --keep)")
    args = parser.parse_args()

    import psycopg

    name = args.reuse or f"supportdesk_bench_sla_{int(time.time())}"
    if not args.reuse:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        setup_django(f"{args.postgres}/{name}")
        from django.core.management import call_command
        from django.db import connection, transaction

        from supportdesk.core.policy_source import active_policy
        from supportdesk.policy import default_policy_path
        from supportdesk.sla import metrics, reports
        from supportdesk.sla.sweep import BATCH, claim_due
        from supportdesk.tickets.models import Ticket

        now = datetime.now(UTC).replace(microsecond=0)
        if not args.reuse:
            started = time.perf_counter()
            seed(tickets=args.tickets, open_tickets=args.open, due_now=args.due, now=now)
            print(f"seeded {args.tickets:,} tickets ({args.open:,} open, {args.due:,} due) in "
                  f"{time.perf_counter() - started:.0f} s (database {name})", file=sys.stderr)
        total = Ticket.objects.count()
        open_count = Ticket.objects.filter(status__in=("new", "open", "pending")).count()
        due_count = Ticket.objects.filter(next_sla_at__lte=now).count()
        policy = active_policy()
        print(f"{total:,} tickets, {open_count:,} open, {due_count:,} with their SLA moment come")

        claimed = []

        def one_sweep_claim() -> None:
            with transaction.atomic():
                got = 0
                while batch := claim_due(now):
                    got += len(batch)
                claimed.append(got)
                transaction.set_rollback(True)  # every run sees the same due rows

        steady = []

        def next_sweep_claim() -> None:
            # The backlog handled, what comes due during one sweep interval (15 s).
            with transaction.atomic():
                while claim_due(now):
                    pass
                start = time.perf_counter()
                got = 0
                while batch := claim_due(now + timedelta(seconds=15)):
                    got += len(batch)
                steady.append(((time.perf_counter() - start) * 1000, got))
                transaction.set_rollback(True)

        def empty_sweep() -> None:
            with transaction.atomic():
                claim_due(now - timedelta(days=30))

        def one_batch_claim() -> None:
            with transaction.atomic():
                claimed.append(len(claim_due(now)))
                transaction.set_rollback(True)

        median, p90 = timed(one_batch_claim, args.runs)
        print(f"sweep: find + claim one batch ({claimed[-1]:,} due tickets, BATCH={BATCH}): "
              f"median {median:.1f} ms, p90 {p90:.1f} ms")
        median, p90 = timed(one_sweep_claim, args.runs)
        print(f"sweep: find + claim a backlog of {claimed[-1]:,} due tickets ({-(-claimed[-1] // BATCH)} batches): "
              f"median {median:.1f} ms, p90 {p90:.1f} ms")
        for _ in range(args.runs):
            next_sweep_claim()
        timings = sorted(ms for ms, _ in steady)
        print(f"sweep: find + claim what comes due in 15 s ({steady[-1][1]} tickets): "
              f"median {statistics.median(timings):.2f} ms, p90 {timings[max(int(len(timings) * 0.9) - 1, 0)]:.2f} ms")
        median, p90 = timed(empty_sweep, args.runs)
        print(f"sweep: find nothing due: median {median:.2f} ms, p90 {p90:.2f} ms")
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN SELECT id, next_sla_at FROM tickets_ticket WHERE next_sla_at <= %s "
                "ORDER BY next_sla_at LIMIT %s FOR UPDATE SKIP LOCKED", [now, BATCH])
            plan = " / ".join(row[0].strip() for row in cursor.fetchall())
        print(f"  plan: {plan}")

        previous = reports.month_of(now.replace(day=1) - timedelta(days=1))
        sizes = []

        def report() -> None:
            found = reports.compliance(previous, as_of=now, policy=policy)
            sizes.append((found.total.total, len(found.by["account"])))

        median, p90 = timed(report, max(args.runs // 4, 3))
        print(f"monthly compliance report {previous.label}, all accounts ({sizes[-1][0]:,} tickets, "
              f"{sizes[-1][1]:,} accounts): median {median:.0f} ms, p90 {p90:.0f} ms")

        median, p90 = timed(metrics.render, 5)
        print(f"/metrics exposition: median {median:.0f} ms, p90 {p90:.0f} ms")

        new_policy = os.path.join(tempfile.mkdtemp(), "stricter.toml")
        text = default_policy_path().read_text()
        with open(new_policy, "w") as out:
            out.write(text.replace(GOLD, 'targets = { low = "1 business day", medium = "4 h", high = "20 min" }'))
        output = io.StringIO()
        start = time.perf_counter()
        call_command("policy", "replay", "--policy", new_policy, "--format", "json", stdout=output)
        elapsed = time.perf_counter() - start
        replayed = [line for line in output.getvalue().splitlines() if '"group": "all"' in line][0]
        import json

        counted = json.loads(replayed)["tickets"]
        print(f"policy replay over the {total:,}-ticket table ({counted:,} answered tickets replayed): {elapsed:.1f} s")
    finally:
        if not args.keep and not args.reuse:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
