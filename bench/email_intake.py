"""Email intake throughput: bulk path and SMTP (four concurrent clients), SQLite and PostgreSQL.

    .venv/bin/python bench/email_intake.py [--backends sqlite,postgresql] [--paths bulk,smtp]

Each run starts from an empty database (a fresh SQLite file or a fresh PostgreSQL
database), imports `../shared/bench/accounts.json` with `supportdesk import accounts`,
then ingests `../shared/bench/mail-1000`. A run is measured from the first message read
to the last ticket committed, and checks that every message was stored and processed
(for SMTP: that every message was committed before its 250 came back).

The peer is django-helpdesk 2.6.1 on the same mail, measured in the same run by
bench/peers/django_helpdesk.py before our runs (`--peer measure`, the default): for
--backends sqlite it measures SQLite in the default journal and in WAL mode, for
postgresql PostgreSQL. Our SQLite (WAL, synchronous=FULL) is compared with the peer's
SQLite WAL. Issue 4's goals are multiples of the peer's best figure: bulk >= 10x,
SMTP >= 5x (end to end). The SMTP path is measured two ways (`--smtp-processing`):
"after" = a store-only listener takes the 1,000 messages, then the stored backlog is
made into tickets as the worker does; "listener" = the listener makes the tickets as it
accepts them (one process). `--peer recorded` skips the peer and uses the figures
recorded on other machines (shared/bench/README.md: 64/s SQLite, 92/s SQLite WAL,
62/s PostgreSQL); the output says which was used.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUPPORTDESK_SHARED_DIR", REPO / ".." / "shared")).resolve()
MAIL_DIR = SHARED / "bench" / "mail-1000"
ACCOUNTS = SHARED / "bench" / "accounts.json"
PEER = "django-helpdesk 2.6.1"
PEER_SCRIPT = REPO / "bench" / "peers" / "django_helpdesk.py"
# Measured on other machines (shared/bench/README.md); only for --peer recorded.
RECORDED = {"sqlite": 64.0, "sqlite WAL": 92.0, "postgresql": 62.0}
# Our SQLite runs in WAL mode, so it is compared with the peer's WAL figure.
PEER_DATABASE = {"sqlite": "sqlite WAL", "postgresql": "postgresql"}
GOALS = {"bulk": 10, "smtp": 5}  # issue 4: multiples of the peer's best figure
POSTGRES = os.environ.get("SUPPORTDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- child: one measured run in a fresh database ----------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("import", "accounts", str(ACCOUNTS), verbosity=0)


def _check(expected: int) -> dict[str, int]:
    from supportdesk.intake.email.models import InboundMail
    from supportdesk.tickets.models import Ticket

    stored = InboundMail.objects.count()
    processed = InboundMail.objects.filter(status=InboundMail.Status.PROCESSED).count()
    tickets = Ticket.objects.count()
    if stored != expected or processed != expected:
        raise SystemExit(f"bench: {stored} stored / {processed} processed of {expected}")
    return {"stored": stored, "processed": processed, "tickets": tickets}


def run_bulk() -> dict[str, object]:
    from supportdesk.intake.email.bulk import ingest_many, maildir_files
    from supportdesk.intake.email.store import RawMail

    files = maildir_files(MAIL_DIR)
    lines: list[str] = []
    started = time.perf_counter()
    mails = (RawMail(raw=path.read_bytes(), route="maildir", origin=str(path)) for path in files)
    ingest_many(mails, on_outcome=lambda outcome: lines.append(json.dumps(outcome.as_json())))
    elapsed = time.perf_counter() - started
    return {"messages": len(files), "seconds": elapsed, **_check(len(files))}


def _send_share(port: int, paths: list[str]) -> list[str]:
    """One SMTP client: its share of the messages over one connection."""
    import smtplib

    errors: list[str] = []
    raws = [Path(p).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for p in paths]
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for raw in raws:
                refused = smtp.sendmail("bench@example.org", ["support@example.com"], raw)
                if refused:
                    errors.append(str(refused))
    except Exception as exc:  # reported, fails the run
        errors.append(repr(exc))
    return errors


def run_smtp(clients: int, processing: str = "listener") -> dict[str, object]:
    """Four clients (by default) send every message; the run ends when the last ticket
    is committed. `processing`: "listener" = the listener makes the tickets as it
    accepts (as `supportdesk smtp` and `serve --smtp-port` run); "after" = a store-only
    listener (`--store-only`), then the stored backlog processed as the worker does."""
    from supportdesk.intake.email.models import InboundMail
    from supportdesk.intake.email.smtp import start_listener

    files = sorted(MAIL_DIR.iterdir())
    port = _free_port()
    listener = start_listener(host="127.0.0.1", port=port, process=processing == "listener")
    # The clients are separate processes, as sending MTAs are: they do not share our GIL.
    files_shares = [[str(p) for p in files[i::clients]] for i in range(clients)]
    errors: list[str] = []
    unsafe: list[int] = []
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pool.map(abs, range(clients))  # the client processes are up before the clock starts
        started = time.perf_counter()
        for result in pool.starmap(_send_share, [(port, share) for share in files_shares]):
            errors.extend(result)
        accepted = time.perf_counter() - started
    # Every 250 was given after its commit: all rows must be there right now.
    committed_at_last_250 = InboundMail.objects.count()
    if committed_at_last_250 != len(files):
        unsafe.append(committed_at_last_250)
    if processing == "listener":
        listener.worker.wait_idle()
        listener.stop()
    else:
        listener.stop()
        from supportdesk.intake.email.bulk import process_stored

        process_stored(on_outcome=lambda outcome: None)
    elapsed = time.perf_counter() - started
    if errors or unsafe:
        raise SystemExit(f"bench: SMTP errors {errors[:3]} / committed at last 250: {unsafe}")
    return {
        "messages": len(files),
        "seconds": elapsed,
        "accepted_seconds": accepted,
        "clients": clients,
        "processing": processing,
        **_check(len(files)),
    }


def _cpu_breakdown() -> dict[str, float]:
    """Wrap the big parts of one mail's processing to add up their CPU time."""
    import supportdesk.intake.service as service
    import supportdesk.outbound.services as outbound
    import supportdesk.sla.oncall as oncall
    import supportdesk.tickets.notify as notify
    from supportdesk.intake.email import bulk, process

    spent: dict[str, float] = {}

    def wrap(module: object, name: str, label: str) -> None:
        original = getattr(module, name)

        @functools.wraps(original)  # keeps marks such as notify.only_when's
        def timed(*args: object, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started

        setattr(module, name, timed)

    wrap(outbound, "send_acknowledgement", "acknowledgement, one at a time (outbound)")
    wrap(outbound, "send_acknowledgements", "acknowledgements, set-wise (outbound)")
    wrap(process, "receive", "intake.service.receive, one at a time (core)")
    wrap(service, "receive_many", "intake.service.receive_many, set-wise (core)")
    wrap(process, "parse_mail", "parsing here (email; normally in the helper)")
    wrap(oncall, "page_new_ticket", "on-call hook on commit (sla)")
    wrap(bulk, "store_mails", "storing raw mail (email)")
    wrap(process, "_claim", "claiming one row (email)")
    wrap(process, "_claim_many", "claiming a batch's rows (email)")
    notify._hooks_for.cache_clear()
    return spent


def child(path: str, clients: int, profile: bool = False, smtp_processing: str = "listener") -> None:
    _setup_django()
    from django.db import connection

    # What a running server has done before its first mail: the modules imported, and
    # the garbage of setting up collected (else one full collection lands in the run).
    for module in ("supportdesk.intake.email.bulk", "supportdesk.intake.email.smtp",
                   "supportdesk.outbound.services", "supportdesk.sla.oncall"):
        importlib.import_module(module)
    gc.collect()
    spent = _cpu_breakdown() if profile else None
    cpu_started = time.process_time()
    result = run_bulk() if path == "bulk" else run_smtp(clients, smtp_processing)
    total = time.process_time() - cpu_started
    # CPU of this process (bulk: the ingesting process; SMTP: listener + processing; the
    # parse helper and the SMTP clients are other processes). The machine's load
    # inflates it much less than the wall-clock rate.
    result["cpu_seconds"] = total
    if spent is not None:
        result["cpu_by_part"] = {**spent, "the rest": total - sum(spent.values())}
    result["backend"] = connection.vendor
    print(json.dumps(result))


# --- parent: one child process per (backend, path), fresh database each ----------------


def _run_child(backend: str, path: str, clients: int, profile: bool = False,
               smtp_processing: str = "listener") -> dict[str, object]:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="supportdesk-bench-")
    env["SUPPORTDESK_DATA_DIR"] = data_dir
    env["SUPPORTDESK_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    env.setdefault("SUPPORTDESK_LOG_LEVEL", "ERROR")
    dbname = None
    if backend == "postgresql":
        import psycopg

        base = POSTGRES
        dbname = f"supportdesk_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["SUPPORTDESK_DATABASE_URL"] = f"{base}/{dbname}"
    else:
        env["SUPPORTDESK_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", path, "--clients", str(clients),
             "--smtp-processing", smtp_processing, *(["--profile"] if profile else [])],
            env=env, capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"bench {backend}/{path} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # each run left ~15 MB in /tmp
        if dbname:
            import psycopg

            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def measure_peer(backends: list[str]) -> dict[str, float]:
    """The peer's msg/s per database, measured now on the same mail (bench/peers/)."""
    databases = []
    if "sqlite" in backends:
        databases += ["sqlite", "sqlite-wal"]
    if "postgresql" in backends:
        databases.append("postgresql")
    # stderr is inherited: the peer's progress on a terminal, its errors always.
    done = subprocess.run(
        [sys.executable, str(PEER_SCRIPT), "--databases", ",".join(databases), "--postgres", POSTGRES],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: measuring the peer failed (exit {done.returncode}); "
                         f"or use --peer recorded")
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for result in results:
        print(f"peer {result['peer']} on {result['database']:10}: {result['rate']:7.1f} msg/s "
              f"({result['messages']} messages in {result['seconds']:.1f} s, {result['tickets']} tickets, "
              f"{result['processed']} processed, {result['log_errors']} errors logged; "
              f"{float(result['messages']) / float(result['cpu_seconds']):.0f} msg per CPU-second)")
    return {str(result["database"]): float(result["rate"]) for result in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--paths", default="bulk,smtp")
    parser.add_argument("--clients", type=int, default=4, help="concurrent SMTP clients")
    parser.add_argument("--profile", action="store_true",
                        help="also print CPU seconds per part (bulk path, first backend)")
    parser.add_argument("--peer", choices=["measure", "recorded"], default="measure",
                        help=f"measure {PEER} in this run (default), or use the figures "
                             "recorded on other machines in shared/bench/README.md")
    parser.add_argument("--smtp-processing", default="after,listener",
                        help="SMTP path: 'listener' = the listener makes the tickets as it accepts "
                             "(how `supportdesk smtp` runs), 'after' = store-only listener (`--store-only`), "
                             "then the backlog processed as the worker does (default: both, after first)")
    parser.add_argument("--child", choices=["bulk", "smtp"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO / "src"))
        child(args.child, args.clients, profile=args.profile, smtp_processing=args.smtp_processing)
        return
    if not MAIL_DIR.is_dir():
        raise SystemExit(f"bench: {MAIL_DIR} not found (shared data lives at <repo>/../shared)")
    backends = args.backends.split(",")
    print(f"email intake, {MAIL_DIR} ({len(list(MAIL_DIR.iterdir()))} messages)")
    sys.stdout.flush()
    if args.peer == "measure":
        peer = measure_peer(backends)
        source = "measured"
        print(f"peer: {PEER} measured in this run on this machine ({', '.join(peer)}); "
              f"the goals use its best figure among these")
    else:
        peer = dict(RECORDED)
        source = "recorded"
        print(f"peer: {PEER} RECORDED figures from shared/bench/README.md (other machines, "
              f"not measured in this run): {peer} msg/s")
    best_database = max(peer, key=lambda database: peer[database])
    best = peer[best_database]
    sys.stdout.flush()
    runs = [(path, mode) for path in args.paths.split(",")
            for mode in (args.smtp_processing.split(",") if path == "smtp" else [""])]
    for backend in backends:
        for path, mode in runs:
            result = _run_child(backend, path, args.clients, profile=args.profile and path == "bulk",
                                smtp_processing=mode or "listener")
            rate = float(result["messages"]) / float(result["seconds"])  # type: ignore[arg-type]
            ref_database = PEER_DATABASE[backend]
            ref = peer[ref_database]
            goal = GOALS[path] * best
            extra = ""
            if path == "smtp":
                accepted = float(result["messages"]) / float(result["accepted_seconds"])  # type: ignore[arg-type]
                extra = (f", 250s at {accepted:.0f}/s ({args.clients} clients; tickets made "
                         f"{'by the listener as it accepts' if mode == 'listener' else 'after, from the stored backlog'})")
            print(
                f"{backend:10} {path:4}: {rate:7.1f} msg/s  = {rate / ref:5.1f}x peer ({source}) on "
                f"{ref_database} {ref:.1f}/s ({rate / best:4.1f}x peer's best {best:.1f}/s on "
                f"{best_database}; goal >= {GOALS[path]}x = {goal:.0f}/s "
                f"{'met' if rate >= goal else 'NOT met'}){extra}; "
                f"{result['tickets']} tickets, all {result['processed']} committed; "
                f"{float(result['messages']) / float(result['cpu_seconds']):.0f} msg per CPU-second "  # type: ignore[arg-type]
                f"of the ingesting process"
            )
            if "cpu_by_part" in result:
                print(f"  CPU {result['cpu_seconds']:.2f} s for {result['messages']} messages:")
                for part, seconds in sorted(result["cpu_by_part"].items(), key=lambda kv: -kv[1]):  # type: ignore[union-attr]
                    print(f"    {part:40} {seconds:6.2f} s")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
