"""The peer of bench/email_intake.py: django-helpdesk 2.6.1 ingesting the same 1,000 mails.

    .venv/bin/python bench/peers/django_helpdesk.py [--databases sqlite,sqlite-wal,postgresql]
    .venv/bin/python bench/peers/django_helpdesk.py --calibrate

Measured the way ../shared/bench/README.md says the reference was: django-helpdesk's
`get_email` command reading a local mail directory (a queue with email_box_type
'local'), acknowledgement mails to Django's in-memory backend, end to end from the
command's start to its return. Each database starts empty: a fresh SQLite file in the
default rollback journal, a fresh SQLite file in WAL mode (synchronous=FULL, as
supportdesk's own SQLite), or a fresh, uniquely named PostgreSQL database dropped
afterwards. The queue reads a temporary copy of ../shared/bench/mail-1000 (get_email
deletes every file it has turned into a ticket). ../shared/bench/accounts.json is not
imported: django-helpdesk has no customer accounts, plans or domains to import it into.

django-helpdesk runs in its own virtualenv, var/bench-peers/django-helpdesk-2.6.1/
(git-ignored), created on the first run from requirements-django-helpdesk.txt (every
version pinned) and reused while that file and the Python version are unchanged.

stdout: one JSON line per database, {"peer", "database", "messages", "tickets",
"seconds", "rate", ...}. Progress goes to stderr, and only when stderr is a terminal.
A run that leaves many of the messages unprocessed fails (exit status 1).

--calibrate prints one JSON line instead: this machine's rate, in this interpreter, for
`email.message_from_bytes(raw, policy=compat32)`, the walk to the text part, its
decoding and the Subject's decoding over the 1,000 mails (shared/bench/README.md:
about 3,700/s on the machines where the reference was measured).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("SUPPORTDESK_SHARED_DIR", REPO / ".." / "shared")).resolve()
MAIL_DIR = SHARED / "bench" / "mail-1000"
PEER = "django-helpdesk 2.6.1"
REQUIREMENTS = HERE / "requirements-django-helpdesk.txt"
DEFAULT_VENV = REPO / "var" / "bench-peers" / "django-helpdesk-2.6.1"
DEFAULT_POSTGRES = os.environ.get(
    "SUPPORTDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432"
)
# Command-line names -> the names in the JSON (and in shared/bench/README.md).
DATABASES = {"sqlite": "sqlite", "sqlite-wal": "sqlite WAL", "postgresql": "postgresql"}
RECORDED = {"sqlite": 64.0, "sqlite WAL": 92.0, "postgresql": 62.0}  # shared/bench/README.md
CALIBRATION_REFERENCE = 3700.0  # shared/bench/README.md, compat32 parse + text part + Subject
# Fewer processed than this fraction of the messages is a broken run, not a slow one.
MIN_PROCESSED = 0.95


def progress(message: str) -> None:
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


# --- the peer's virtualenv -------------------------------------------------------------


def _stamp() -> str:
    """What the virtualenv was built from: the pinned requirements and the Python."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def ensure_venv(venv: Path) -> Path:
    """The peer's interpreter; creates (or re-creates) its virtualenv when needed."""
    python = venv / "bin" / "python"
    stamp_file = venv / ".bench-requirements.sha256"
    stamp = _stamp()
    if python.exists() and stamp_file.exists() and stamp_file.read_text().strip() == stamp:
        return python
    if venv.exists():
        progress(f"{PEER}: {REQUIREMENTS.name} or Python changed, re-creating {venv}")
        shutil.rmtree(venv)
    progress(f"{PEER}: creating the virtualenv {venv}")
    venv.parent.mkdir(parents=True, exist_ok=True)
    created = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], stdout=sys.stderr, check=False
    )
    if created.returncode != 0:
        raise SystemExit(f"{PEER}: python -m venv {venv} failed (exit {created.returncode})")
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-r",
        str(REQUIREMENTS),
    ]
    if not sys.stderr.isatty():
        pip.append("--quiet")  # errors still reach stderr
    # pip's output goes to stderr: stdout is kept for the JSON lines.
    installed = subprocess.run(pip, stdout=sys.stderr, check=False)
    if installed.returncode != 0:
        raise SystemExit(
            f"{PEER}: pip install -r {REQUIREMENTS} failed (exit {installed.returncode})"
        )
    check = subprocess.run(
        [str(python), "-c", "import django, helpdesk, psycopg; print(django.get_version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise SystemExit(f"{PEER}: the new virtualenv cannot import its packages:\n{check.stderr}")
    stamp_file.write_text(stamp + "\n")
    progress(f"{PEER}: virtualenv ready (Django {check.stdout.strip()})")
    return python


# --- child: one measured run, inside the peer's virtualenv -----------------------------


class _LogCounter:
    """Counts what django-helpdesk logs at WARNING and above, and keeps a few samples."""

    def __init__(self) -> None:
        import logging

        self.counts: dict[str, int] = {}
        self.distinct: dict[str, int] = {}  # "LEVEL logger: message" -> how many times
        counter = self

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                counter.counts[record.levelname] = counter.counts.get(record.levelname, 0) + 1
                text = f"{record.levelname} {record.name}: {record.getMessage()}"[:300]
                if record.exc_info:
                    text += "\n" + logging.Formatter().formatException(record.exc_info)[-1500:]
                if text in counter.distinct or len(counter.distinct) < 20:
                    counter.distinct[text] = counter.distinct.get(text, 0) + 1

        self.handler = Handler(level=logging.WARNING)
        logging.getLogger().addHandler(self.handler)


def _sqlite_pragmas() -> dict[str, object]:
    from django.db import connection

    if connection.vendor != "sqlite":
        return {}
    with connection.cursor() as cursor:
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"journal_mode": journal, "synchronous": names.get(synchronous, synchronous)}


def setup_peer_django(database: str) -> dict[str, object]:
    """In the peer's virtualenv: Django set up on the peer's settings and the fresh
    database migrated; SQLite's journal checked against what `database` asks for.
    Returns SQLite's pragmas (empty on PostgreSQL)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_helpdesk_settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    pragmas = _sqlite_pragmas()
    if database == "sqlite WAL" and pragmas.get("journal_mode") != "wal":
        raise SystemExit(f"{PEER}: asked for WAL, SQLite says journal_mode={pragmas}")
    return pragmas


def _measure(database: str, mail_dir: Path, messages: int) -> dict[str, object]:
    pragmas = setup_peer_django(database)
    from django.core import mail
    from django.core.management import call_command
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket, TicketCC

    Queue.objects.create(
        title="Support",
        slug="support",
        email_address="support@example.com",  # the mails' To: (not subscribed as a CC)
        allow_email_submission=True,
        email_box_type="local",
        email_box_local_dir=str(mail_dir),
        # "warn" keeps the queue's log records flowing to the counter below; a queue
        # without logging drops them, including the one saying the whole queue failed.
        logging_type="warn",
    )
    logs = _LogCounter()
    mail.outbox = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    call_command("get_email")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    left = sum(1 for _ in mail_dir.iterdir())
    return {
        "peer": PEER,
        "database": database,
        "messages": messages,
        "tickets": Ticket.objects.count(),
        "seconds": round(seconds, 3),
        "rate": round(messages / seconds, 1),
        # CPU of this process alone (PostgreSQL's server work is another process).
        "cpu_seconds": round(cpu_seconds, 3),
        "processed": messages - left,
        "followups": FollowUp.objects.count(),
        "attachments": FollowUpAttachment.objects.count(),
        "ccs": TicketCC.objects.count(),
        "acknowledgements": len(mail.outbox),
        "log_warnings": logs.counts.get("WARNING", 0),
        "log_errors": logs.counts.get("ERROR", 0) + logs.counts.get("CRITICAL", 0),
        "log_messages": logs.distinct,
        **pragmas,
        "python": ".".join(map(str, sys.version_info[:3])),
        "django": __import__("django").get_version(),
    }


@contextlib.contextmanager
def fresh_database(database: str, postgres: str, work: Path) -> Iterator[None]:
    """Points this process's peer settings (HELPDESK_PEER_DATABASE) at an empty database:
    a new SQLite file in `work` (default journal, or WAL with synchronous=FULL for "sqlite
    WAL"), or a uniquely named PostgreSQL database, dropped (connections closed) on exit.
    Shared by every peer measurement in bench/peers/."""
    dbname = None
    try:
        if database == "postgresql":
            import psycopg

            name = f"helpdesk_peer_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(postgres + "/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            dbname = name  # from here on it must be dropped
            os.environ["HELPDESK_PEER_DATABASE"] = f"{postgres}/{dbname}"
        else:
            wal = "?wal" if database == "sqlite WAL" else ""
            os.environ["HELPDESK_PEER_DATABASE"] = f"sqlite://{work}/helpdesk.sqlite3{wal}"
        yield
    finally:
        if dbname:
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connections.close_all()
            import psycopg

            with psycopg.connect(postgres + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def child(database: str, postgres: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="helpdesk-peer-"))
    mail_dir = work / "mail"
    # get_email deletes the files it ingests: it only ever sees a copy, in a directory of
    # our own (copytree would also copy the shared directory's read-only mode).
    mail_dir.mkdir()
    for path in MAIL_DIR.iterdir():
        shutil.copyfile(path, mail_dir / path.name)
    messages = sum(1 for _ in mail_dir.iterdir())
    (work / "media").mkdir()
    os.environ["HELPDESK_PEER_MEDIA_ROOT"] = str(work / "media")
    try:
        with fresh_database(database, postgres, work):
            result = _measure(database, mail_dir, messages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if int(result["processed"]) < MIN_PROCESSED * messages:  # type: ignore[call-overload]
        print(json.dumps(result, indent=1), file=sys.stderr)
        raise SystemExit(
            f"{PEER} on {database}: only {result['processed']} of {messages} messages processed "
            f"({result['tickets']} tickets); see log_messages above"
        )
    print(json.dumps(result), flush=True)


def run_in_venv(python: Path, script: Path, args: list[str], label: str) -> dict[str, object]:
    """Runs a peer script's child mode with the peer's interpreter, outside our Django
    environment; its last JSON line on stdout is the result (stderr is inherited)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    done = subprocess.run(
        [str(python), str(script), *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{label} failed (exit {done.returncode})")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{label}: no result on stdout:\n{done.stdout[-2000:]}")
    return json.loads(lines[-1])


def run_peer(python: Path, database: str, postgres: str) -> dict[str, object]:
    return run_in_venv(
        python,
        Path(__file__).resolve(),
        ["--child", database, "--postgres", postgres],
        f"{PEER} on {database}",
    )


# --- calibration: what this machine's core does with the standard library -------------


def calibrate(runs: int = 5) -> dict[str, object]:
    import email
    import email.policy
    from email.header import decode_header, make_header

    raws = [path.read_bytes() for path in sorted(MAIL_DIR.iterdir())]

    def one(raw: bytes) -> tuple[str, str]:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        text = ""
        for part in message.walk():
            if part.get_content_maintype() == "multipart" or part.get_filename():
                continue
            if part.get_content_type() in ("text/plain", "text/html"):
                payload = part.get_payload(decode=True) or b""
                text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                if part.get_content_type() == "text/plain":
                    break
        return str(make_header(decode_header(message.get("Subject", "")))), text

    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for raw in raws:
            one(raw)
        timings.append(time.perf_counter() - started)
    timings.sort()
    best = timings[0]
    return {
        "calibration": "message_from_bytes(compat32) + walk to the text part + decode + Subject",
        "messages": len(raws),
        "runs": runs,
        "seconds": round(best, 4),
        "rate": round(len(raws) / best, 1),
        "median_rate": round(len(raws) / timings[len(timings) // 2], 1),
        "reference_rate": CALIBRATION_REFERENCE,
        "ratio_to_reference": round(len(raws) / best / CALIBRATION_REFERENCE, 2),
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases",
        default="sqlite,sqlite-wal,postgresql",
        help="comma-separated: " + ", ".join(DATABASES),
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="server URL without a database name (default %(default)s)",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=DEFAULT_VENV,
        help="the peer's virtualenv (default %(default)s)",
    )
    parser.add_argument(
        "--calibrate", action="store_true", help="print this machine's stdlib parsing rate instead"
    )
    parser.add_argument("--child", choices=list(DATABASES.values()), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not MAIL_DIR.is_dir():
        raise SystemExit(f"{PEER}: {MAIL_DIR} not found (shared data lives at <repo>/../shared)")
    if args.child:
        child(args.child, args.postgres.rstrip("/"))
        return
    if args.calibrate:
        print(json.dumps(calibrate()), flush=True)
        return
    names = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATABASES and name not in DATABASES.values()]
    if unknown:
        parser.error(f"unknown database {unknown}; use {', '.join(DATABASES)}")
    python = ensure_venv(args.venv.resolve())
    for name in names:
        database = DATABASES.get(name, name)
        progress(
            f"{PEER} on {database}: migrating a fresh database, then get_email over {MAIL_DIR}"
        )
        result = run_peer(python, database, args.postgres.rstrip("/"))
        progress(f"{PEER} on {database}: {result['rate']} msg/s, {result['tickets']} tickets")
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
