"""`supportdesk ingest-email [FILE ...] [--maildir DIR]`: the pipe for an MTA and bulk loads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from supportdesk.intake.email.bulk import ingest_many, maildir_files
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.store import RawMail

EX_TEMPFAIL = 75  # sysexits.h


class Command(BaseCommand):
    help = (
        "Store and process raw mail from files, a maildir, or standard input (one message). "
        "Prints one JSON line per message; exits 0 when every message was stored."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("files", nargs="*", help="raw message files (RFC 5322)")
        parser.add_argument("--maildir", action="append", default=[], help="a maildir or a directory of message files")
        parser.add_argument("--sender", default=None, help="envelope sender given by the MTA (use '' for <>)")
        parser.add_argument("--recipient", action="append", default=[], help="envelope recipient")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        paths = [Path(f) for f in options["files"]]
        for directory in options["maildir"]:
            folder = Path(directory)
            if not folder.is_dir():
                raise CommandError(f"--maildir {directory}: not a directory")
            paths += maildir_files(folder)
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        envelope = options["sender"]
        recipients = tuple(options["recipient"])
        route = InboundMail.Route.MAILDIR if options["maildir"] else InboundMail.Route.PIPE

        def mails():  # type: ignore[no-untyped-def]
            if not paths:
                yield RawMail(raw=sys.stdin.buffer.read(), route=InboundMail.Route.PIPE,
                              envelope_sender=envelope, envelope_recipients=recipients)
                return
            for path in paths:
                yield RawMail(raw=path.read_bytes(), route=route, envelope_sender=envelope,
                              envelope_recipients=recipients, origin=str(path))

        total = len(paths) or 1
        progress = sys.stderr.isatty()
        out = self.stdout
        done = 0

        def report(outcome):  # type: ignore[no-untyped-def]
            nonlocal done
            done += 1
            out.write(json.dumps(outcome.as_json(), ensure_ascii=False))
            if progress and (done % 50 == 0 or done == total):
                sys.stderr.write(f"\ringested {done}/{total}")
                sys.stderr.flush()

        try:
            stored = ingest_many(mails(), on_outcome=report)
        except DatabaseError as exc:
            # EX_TEMPFAIL: an MTA piping to us keeps the message and retries later,
            # where any other failure status would bounce it to the customer.
            sys.stderr.write(f"supportdesk ingest-email: could not store the mail ({exc}); try again\n")
            sys.exit(EX_TEMPFAIL)
        if progress:
            sys.stderr.write("\n")
        if stored != total:
            raise CommandError(f"only {stored} of {total} messages were stored")
