"""The SMTP/LMTP listener (aiosmtpd).

`accept_message` is a plain synchronous function (tested directly): it checks the size
and bare line feeds cheaply, stores the raw message durably and only then returns
`250`. Any internal error answers `451 4.3.0`, so the sending MTA keeps the message
and retries. Processing (ticket, acknowledgement) happens after the `250`, in one
background thread per listener, from the stored row; a crash in between leaves the
row `stored`, and the next start processes it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections, connections

from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.process import process_mail
from supportdesk.intake.email.store import RawMail, pending, store_mail

logger = logging.getLogger(__name__)

_BARE_LF = re.compile(rb"(?<!\r)\n|\r(?!\n)")

OK = "250 2.0.0 OK: stored as inbound mail {id}"
TOO_BIG = "552 5.3.4 Message size exceeds the limit of {limit} bytes"
BARE_LF = "550 5.6.11 Bare LF or CR in message refused (SMTP smuggling protection)"
TEMPORARY = "451 4.3.0 Temporary failure storing the message, please retry"


def accept_message(
    raw: bytes,
    *,
    mail_from: str | None,
    rcpt_tos: Sequence[str],
    route: str = InboundMail.Route.SMTP,
    max_bytes: int | None = None,
    on_stored: Callable[[int], None] | None = None,
) -> str:
    """Store one message received by SMTP/LMTP; the reply line for the client."""
    limit = max_bytes if max_bytes is not None else settings.SUPPORTDESK_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        return TOO_BIG.format(limit=limit)
    if _BARE_LF.search(raw):
        return BARE_LF
    try:
        row = store_mail(
            RawMail(
                raw=raw,
                route=route,
                envelope_sender=mail_from or "",
                envelope_recipients=tuple(rcpt_tos),
            )
        )
    except Exception:
        logger.exception("storing an inbound message failed; answered 451")
        return TEMPORARY
    if on_stored is not None:
        on_stored(row.pk)
    return OK.format(id=row.pk)


class IntakeWorker:
    """Processes stored mail in one background thread, in the order it was stored."""

    def __init__(self) -> None:
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="email-intake", daemon=True)
        self.processed = 0
        self.idle = threading.Event()

    def start(self) -> IntakeWorker:
        self._thread.start()
        return self

    def submit(self, inbound_id: int) -> None:
        self.idle.clear()
        self._queue.put(inbound_id)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self.idle.wait(timeout)

    def _run(self) -> None:
        close_old_connections()
        for row in list(pending()):  # left over from before a crash or restart
            self._process(row.pk)
        while True:
            if self._queue.empty():
                self.idle.set()
            inbound_id = self._queue.get()
            if inbound_id is None:
                break
            self._process(inbound_id)
        connections.close_all()

    def _process(self, inbound_id: int) -> None:
        try:
            row = InboundMail.objects.filter(pk=inbound_id).first()
            if row is not None:
                process_mail(row)
                self.processed += 1
        except Exception:  # the row stays stored; the next start retries it
            logger.exception("processing inbound mail %s failed", inbound_id)
            close_old_connections()


class IntakeHandler:
    """aiosmtpd handler: the blocking store runs in a thread pool, never on the loop."""

    def __init__(self, *, route: str, worker: IntakeWorker | None, threads: int = 4) -> None:
        self.route = route
        self.worker = worker
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtp-store")

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()

        def store() -> str:
            close_old_connections()  # a pool thread may hold a connection the DB dropped
            return accept_message(
                raw,
                mail_from=envelope.mail_from,
                rcpt_tos=envelope.rcpt_tos,
                route=self.route,
                on_stored=self.worker.submit if self.worker else None,
            )

        reply = await loop.run_in_executor(self.executor, store)
        if isinstance(server, LMTP):
            # LMTP answers once per recipient; the message is stored once for all.
            return "\r\n".join([reply] * max(1, len(envelope.rcpt_tos)))
        return reply


    def close(self) -> None:
        """Close each pool thread's database connection, then the pool."""
        size = self.executor._max_workers
        barrier = threading.Barrier(size)

        def close_connection() -> None:
            connections.close_all()
            barrier.wait(timeout=10)  # holds the thread so every thread gets one call

        futures = [self.executor.submit(close_connection) for _ in range(size)]
        for future in futures:
            future.exception(timeout=15)
        self.executor.shutdown(wait=True)


def _rewrite(status: str) -> str:
    # aiosmtpd's own size refusals, given the enhanced status code RFC 3463 defines.
    if status.startswith("552 Error"):
        return "552 5.3.4 Message size exceeds fixed maximum message size"
    return status


class _SMTP(SMTP):
    async def push(self, status: str) -> None:
        await super().push(_rewrite(status))


class _LMTP(LMTP):
    async def push(self, status: str) -> None:
        await super().push(_rewrite(status))


class IntakeController(Controller):
    def __init__(self, handler: IntakeHandler, *, lmtp: bool = False, **kwargs: Any) -> None:
        self.lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        server_class = _LMTP if self.lmtp else _SMTP
        return server_class(
            self.handler,
            data_size_limit=settings.SUPPORTDESK_MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="supportdesk",
        )


class Listener:
    """A running listener: the aiosmtpd controller, its store threads and its worker."""

    def __init__(self, controller: IntakeController, handler: IntakeHandler, worker: IntakeWorker):
        self.controller = controller
        self.handler = handler
        self.worker = worker

    def stop(self) -> None:
        self.controller.stop()
        self.handler.close()
        self.worker.stop()


def start_listener(
    *, host: str = "127.0.0.1", port: int = 2525, lmtp: bool = False, threads: int = 4
) -> Listener:
    """Start the listener and its processing thread (stop it with `.stop()`)."""
    worker = IntakeWorker().start()
    route = InboundMail.Route.LMTP if lmtp else InboundMail.Route.SMTP
    handler = IntakeHandler(route=route, worker=worker, threads=threads)
    controller = IntakeController(handler, lmtp=lmtp, hostname=host, port=port)
    try:
        controller.start()
    except BaseException:
        handler.close()
        worker.stop()
        raise
    return Listener(controller, handler, worker)
