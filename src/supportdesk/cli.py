"""The `supportdesk` command.

Every subcommand is a Django management command living in the app that owns it
(`policy` in core, `import`/`export` in accounts, `ingest-email` in intake, ...), so
`supportdesk --help` lists them all and each app adds its own without touching this file.
"""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Any


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        _utility(["supportdesk", *(sys.argv[1:] if argv is None else argv)]).execute()
    except ImproperlyConfigured as exc:
        # Settings problems are operator mistakes: one clear line, no traceback.
        print(f"supportdesk: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def _utility(argv: list[str]) -> Any:
    # Django is imported only here, after DJANGO_SETTINGS_MODULE is set.
    from django.core.management import ManagementUtility, get_commands, load_command_class

    class Utility(ManagementUtility):
        """Django's dispatcher, with a main help that puts supportdesk's commands first."""

        def main_help_text(self, commands_only: bool = False) -> str:
            if commands_only or self.settings_exception is not None:
                return str(super().main_help_text(commands_only))
            ours: list[tuple[str, str]] = []
            others: list[str] = []
            for name, app in sorted(get_commands().items()):
                if not app.startswith("supportdesk."):
                    others.append(name)
                    continue
                text = str(load_command_class(app, name).help).strip()
                ours.append((name, text.split(". ")[0].rstrip(".")))
            width = max(len(name) for name, _ in ours)
            lines = [
                "usage: supportdesk <command> [options]   (supportdesk help <command> for its options)",
                "",
                "supportdesk commands:",
                *(f"  {name.ljust(width)}  {text}" for name, text in ours),
                "",
                *textwrap.wrap(
                    "Django's own commands (maintenance): " + ", ".join(others),
                    width=100,
                    subsequent_indent="  ",
                ),
            ]
            return "\n".join(lines)

    return Utility(argv)
