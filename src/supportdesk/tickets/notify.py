"""What happens after a ticket change commits: acknowledgements, pages, warnings.

Actions call `schedule(change)`; the functions listed for that change kind in `HOOKS`
run once the transaction has committed (never for a rolled-back change). The list is
plain code, not signals, so what runs is visible here: later issues add their dotted
paths (e.g. the acknowledgement mail, the on-call page). A hook should be quick: send
anything slow to a django-tasks task from inside the hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TicketChange:
    kind: str  # the Event kind: opened, customer_message, public_reply, severity_changed, ...
    ticket_id: int
    number: int
    at: datetime
    actor_id: int | None = None
    message_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


# kind -> dotted paths of functions taking one TicketChange. Empty until the outbound,
# SLA and on-call issues fill it.
HOOKS: dict[str, tuple[str, ...]] = {
    "opened": ("supportdesk.sla.oncall.page_new_ticket",),
    "customer_message": (),
    "public_reply": ("supportdesk.outbound.hooks.mail_public_reply",),
    "internal_note": (),
    "severity_changed": (),
    "assigned": (),
    "status_changed": (),
    "moved_to_account": (),
}


@cache
def _hooks_for(kind: str) -> tuple[Callable[[TicketChange], None], ...]:
    return tuple(import_string(path) for path in HOOKS.get(kind, ()))


_local = threading.local()


@contextmanager
def suppressed() -> Iterator[None]:
    """Changes made inside run no hooks (in this thread): for loading history such as the
    demo data, where nobody should be paged or mailed about the past."""
    previous = getattr(_local, "suppressed", False)
    _local.suppressed = True
    try:
        yield
    finally:
        _local.suppressed = previous


def schedule(change: TicketChange) -> None:
    """Run the hooks for this change after the current transaction commits."""
    if getattr(_local, "suppressed", False):
        return
    hooks = _hooks_for(change.kind)
    if not hooks:
        return  # nothing to run: don't even register a callback
    for hook in hooks:
        # robust: one failing hook is logged and does not stop the others.
        transaction.on_commit(partial(hook, change), robust=True)
