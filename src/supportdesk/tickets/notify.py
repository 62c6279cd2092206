"""What happens after a ticket change commits: acknowledgements, pages, warnings.

Actions call `schedule(change)`; the functions listed for that change kind in `HOOKS`
run once the transaction has committed (never for a rolled-back change). The list is
plain code, not signals, so what runs is visible here: later issues add their dotted
paths (e.g. the acknowledgement mail, the on-call page). A hook should be quick: send
anything slow to a django-tasks task from inside the hook.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


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
    "severity_changed": ("supportdesk.sla.oncall.page_raised_ticket",),
    "assigned": (),
    "status_changed": (),
    "moved_to_account": (),
}


Hook = Callable[[TicketChange], None]


def only_when(wanted: Callable[[TicketChange], bool]) -> Callable[[Hook], Hook]:
    """Mark a hook that acts on some changes only: `schedule` skips it for a change that
    `wanted` (deciding from the change alone, without queries) says it ignores, so no
    after-commit callback or savepoint is spent on it. The hook may still decide no."""

    def mark(hook: Hook) -> Hook:
        hook.wanted = wanted  # type: ignore[attr-defined]
        return hook

    return mark


def with_batch_form(many: Callable[[list[TicketChange]], None]) -> Callable[[Hook], Hook]:
    """Give a hook its batch form: in a `grouped` block, the changes the hook wants are
    handed to `many` all at once (one savepoint, shared reads such as the rota or the
    supervisors made once) instead of one call each. Should `many` fail, the changes
    go through the hook one at a time, each in its own savepoint, so one bad change
    never costs the others their hook."""

    def mark(hook: Hook) -> Hook:
        hook.many = many  # type: ignore[attr-defined]
        return hook

    return mark


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


@contextmanager
def grouped() -> Iterator[None]:
    """For a batch of changes in one transaction (e.g. `intake.service.receive_many`):
    the hooks of the changes scheduled inside run after the commit all together in ONE
    transaction instead of one transaction (and one disk flush) per hook that writes:
    hook by hook, each hook's changes in their order, given to its batch form at once
    (`with_batch_form`) or else one call each, each call in its own savepoint. Changes
    rolled back (a savepoint that failed) run none. A hook that fails is logged and
    does not stop the others, as with `schedule`."""
    calls: list[tuple[Hook, TicketChange]] = []
    previous = getattr(_local, "group", None)
    _local.group = calls
    try:
        yield
    finally:
        _local.group = previous
    # Registered after every change's own callback, so it runs after they added theirs.
    transaction.on_commit(partial(_run_group, calls))


def _run_group(calls: list[tuple[Hook, TicketChange]]) -> None:
    if not calls:
        return
    by_hook: dict[Hook, list[TicketChange]] = {}
    for hook, change in calls:
        by_hook.setdefault(hook, []).append(change)
    with transaction.atomic():
        for hook, changes in by_hook.items():
            many = getattr(hook, "many", None)
            if many is not None:
                try:
                    with transaction.atomic():
                        many(changes)
                    continue
                except Exception:
                    logger.exception("ticket hook %r failed on a batch; one change at a time", many)
            for change in changes:
                try:
                    with transaction.atomic():
                        hook(change)
                except Exception:
                    logger.exception("ticket hook %r failed", hook)


def schedule(change: TicketChange) -> None:
    """Run the hooks for this change after the current transaction commits."""
    if getattr(_local, "suppressed", False):
        return
    hooks = _hooks_for(change.kind)
    if not hooks:
        return  # nothing to run: don't even register a callback
    group = getattr(_local, "group", None)
    for hook in hooks:
        wanted = getattr(hook, "wanted", None)
        if wanted is not None and not wanted(change):
            continue
        if group is not None:
            # Only a change whose savepoint survives reaches the group (on_commit drops
            # the callbacks of a rolled-back savepoint).
            transaction.on_commit(partial(group.append, (hook, change)))
        else:
            # robust: one failing hook is logged and does not stop the others.
            transaction.on_commit(partial(hook, change), robust=True)
