"""`supportdesk doctor`: what in this installation needs an operator's attention."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from supportdesk.intake.email.checks import ERROR, WARNING, Finding, email_findings


class Command(BaseCommand):
    help = "Check the configuration and state; warnings and errors say what to fix."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        findings: list[Finding] = []
        try:
            connection.ensure_connection()
            findings.append(Finding("ok", f"database: {connection.vendor} reachable"))
            findings += email_findings()
        except Exception as exc:
            findings.append(Finding(ERROR, f"database unreachable or not migrated: {exc}"))
        for finding in findings:
            stream = self.stderr if finding.level in (WARNING, ERROR) else self.stdout
            stream.write(f"{finding.level}: {finding.message}")
        errors = sum(1 for f in findings if f.level == ERROR)
        if errors:
            raise CommandError(f"{errors} problem(s) found")
