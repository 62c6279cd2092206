"""What runs in the parse helper process (`bulk.ParseHelper`).

Kept apart from the modules that import Django models: a spawned helper unpickles these
functions by importing this module before Django is set up.
"""

from __future__ import annotations

from typing import Any


def start() -> None:
    import django

    django.setup()


def parse_all(args: list[Any]) -> list[Any]:
    from supportdesk.intake.email.process import parse_from_args

    return [parse_from_args(a) for a in args]
