"""The `supportdesk` command.

Every subcommand is a Django management command living in the app that owns it
(`policy` in core, `import`/`export` in accounts, `ingest-email` in intake, ...), so
`supportdesk --help` lists them all and each app adds its own without touching this file.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["supportdesk", *(sys.argv[1:] if argv is None else argv)])
    except ImproperlyConfigured as exc:
        # Settings problems are operator mistakes: one clear line, no traceback.
        print(f"supportdesk: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
