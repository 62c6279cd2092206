"""`supportdesk import accounts FILE`: load customer accounts from JSON or CSV."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from supportdesk import clock
from supportdesk.accounts.transfer import (
    CSV_COLUMNS,
    ImportProblem,
    import_accounts,
    read_csv,
    read_json,
)


class Command(BaseCommand):
    help = (
        "Import customer accounts (domains, contacts, subscription) from a JSON or CSV file, "
        "in one transaction: an invalid row aborts the whole import. Importing the same "
        f"file twice changes nothing. CSV columns: {', '.join(CSV_COLUMNS)}."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("what", choices=["accounts"], help="what to import")
        parser.add_argument("file", help="path of the file, or - for standard input")
        parser.add_argument(
            "--format",
            choices=["json", "csv"],
            help="file format (default: from the file name's extension, else json)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = options["file"]
        fmt = options["format"] or ("csv" if path.lower().endswith(".csv") else "json")
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text") from None
        try:
            records = read_csv(text) if fmt == "csv" else read_json(text)
            source = "(standard input)" if path == "-" else Path(path).name
            report = import_accounts(records, now=clock.now(), source=source)
        except ImportProblem as exc:
            guessed_json = options["format"] is None and fmt == "json"
            hint = "; for CSV give --format csv" if guessed_json and "not valid JSON" in str(exc) else ""
            raise CommandError(f"{path}: {exc}{hint} (nothing was imported)") from None
        self.stdout.write(report.summary() if report.changed else f"nothing to change; {report.summary()}")
