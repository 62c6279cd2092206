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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP
from django.conf import settings
from django.db import close_old_connections, connections, router

from supportdesk.intake.email.bulk import ParseHelper, process_batch
from supportdesk.intake.email.mime import ParsedMail
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.store import RawMail, pending, store_mail, store_mails

logger = logging.getLogger(__name__)

OK = "250 2.0.0 OK: stored as inbound mail {id}"
TOO_BIG = "552 5.3.4 Message size exceeds the limit of {limit} bytes"
BARE_LF = "550 5.6.11 Bare LF or CR in message refused (SMTP smuggling protection)"
TEMPORARY = "451 4.3.0 Temporary failure storing the message, please retry"
# At most this many mails share one transaction. Small for processing: on SQLite a
# processing transaction holds the write lock, and stores (250s) wait behind it.
BATCH = 100
PROCESS_BATCH = 16
# A batch this big is parsed in the helper process; a smaller one here (lower latency).
PARSE_ELSEWHERE_FROM = 4


def refusal_for(raw: bytes, *, max_bytes: int | None = None) -> str | None:
    """The cheap checks made before anything is stored: size, bare LF/CR."""
    limit = max_bytes if max_bytes is not None else settings.SUPPORTDESK_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        return TOO_BIG.format(limit=limit)
    if has_bare_line_ending(raw):
        return BARE_LF
    return None


def has_bare_line_ending(raw: bytes) -> bool:
    """A LF not preceded by CR, or a CR not followed by LF, anywhere in `raw`.

    Three counts in C instead of a regex search with look-around (which took ~0.4 ms
    per 4 KB message, the listener's biggest single cost): every LF and every CR must
    belong to a CRLF pair.
    """
    pairs = raw.count(b"\r\n")
    return raw.count(b"\n") != pairs or raw.count(b"\r") != pairs


def receivable(
    raw: bytes,
    *,
    mail_from: str | None,
    rcpt_tos: Sequence[str],
    route: str = InboundMail.Route.SMTP,
    max_bytes: int | None = None,
) -> RawMail | str:
    """The mail to store, or the refusal to answer instead (size, bare LF/CR)."""
    refusal = refusal_for(raw, max_bytes=max_bytes)
    if refusal:
        return refusal
    return RawMail(
        raw=raw, route=route, envelope_sender=mail_from or "", envelope_recipients=tuple(rcpt_tos)
    )


def accept_message(
    raw: bytes,
    *,
    mail_from: str | None,
    rcpt_tos: Sequence[str],
    route: str = InboundMail.Route.SMTP,
    max_bytes: int | None = None,
    on_stored: Callable[[int], None] | None = None,
) -> str:
    """Store one message received by SMTP/LMTP in a transaction of its own; the reply
    line for the client. Returns only once the message is committed, or with the
    refusal or the temporary failure to answer. (The listener does the same through
    its group commit, in `IntakeHandler.handle_DATA`.)"""
    mail = receivable(raw, mail_from=mail_from, rcpt_tos=rcpt_tos, route=route, max_bytes=max_bytes)
    if isinstance(mail, str):
        return mail
    try:
        inbound_id = store_mail(mail).pk
    except Exception:
        logger.exception("storing an inbound message failed; answered 451")
        return TEMPORARY
    if on_stored is not None:
        on_stored(inbound_id)
    return OK.format(id=inbound_id)


class WriteTurns:
    """Takes turns at the database's write lock between the store thread and the
    processing thread of one listener, stores first.

    SQLite has one writer at a time, and a writer that finds the lock taken sleeps in
    its busy handler (1, 2, 5, 10 ... ms) while the other thread, which never sleeps,
    takes the lock again at once: with processing running, the stores (and so the
    250s) starved, down to ~90/s. In-process, the threads queue here instead: a
    processing batch waits while a store is waiting, so a 250 waits at most for the
    processing batch in progress. (Only for SQLite; PostgreSQL locks rows.)
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = False
        self._stores_waiting = 0

    @contextmanager
    def store(self) -> Iterator[None]:
        with self._changed:
            self._stores_waiting += 1
            try:
                self._changed.wait_for(lambda: not self._busy)
            finally:
                self._stores_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def process(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._busy and not self._stores_waiting)
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._changed:
            self._busy = False
            self._changed.notify_all()


@contextmanager
def _no_turns() -> Iterator[None]:
    yield


class IntakeWorker:
    """Processes stored mail in one background thread, in the order it was stored.

    Mail that arrived together is processed as the bulk path does (`bulk.process_batch`:
    one transaction, new tickets written set-wise). Once a backlog builds up, batches
    are parsed in a helper process (`bulk.ParseHelper`, spawned: this process runs
    threads) while the previous one is written, so parsing does not take this
    process's CPU from the sessions being accepted; a lone mail is parsed here, at once.
    """

    def __init__(self) -> None:
        self.turns = WriteTurns()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="email-intake", daemon=True)
        self.processed = 0
        self._outstanding = 0
        self._changed = threading.Condition()
        self._helper: ParseHelper | None = None

    def start(self) -> IntakeWorker:
        self._thread.start()
        return self

    def submit(self, inbound_id: int) -> None:
        with self._changed:
            self._outstanding += 1
        self._queue.put(inbound_id)

    def _done(self, count: int) -> None:
        with self._changed:
            self._outstanding -= count
            self._changed.notify_all()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=30)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far has been processed."""
        with self._changed:
            return self._changed.wait_for(lambda: self._outstanding <= 0, timeout)

    def _take(self, *, wait: bool) -> tuple[list[int], bool]:
        """The ids queued now, at most PROCESS_BATCH (waiting for one when `wait`), and
        whether the listener is stopping."""
        ids: list[int] = []
        while len(ids) < PROCESS_BATCH:
            try:
                inbound_id = self._queue.get() if wait and not ids else self._queue.get_nowait()
            except queue.Empty:
                break
            if inbound_id is None:
                return ids, True
            ids.append(inbound_id)
        return ids, False

    def _run(self) -> None:
        close_old_connections()
        try:
            leftovers = [row.pk for row in pending()]  # from before a crash or restart
            for start in range(0, len(leftovers), PROCESS_BATCH):
                self._process_batch(self._rows(leftovers[start:start + PROCESS_BATCH]), None)
            previous: tuple[list[InboundMail], Future[list[ParsedMail]] | None] | None = None
            stop = False
            while not stop or previous is not None:
                # While a batch is being parsed, take what has arrived meanwhile (without
                # waiting) and hand it to the helper before writing the parsed one.
                ids, stopping = self._take(wait=previous is None) if not stop else ([], True)
                stop = stop or stopping
                current = None
                if ids:
                    rows = self._rows(ids)
                    future = self._parser().submit(rows) if len(rows) >= PARSE_ELSEWHERE_FROM else None
                    current = (rows, future)
                    missing = len(ids) - len(rows)
                    if missing:
                        self._done(missing)
                if previous is not None:
                    self._process_batch(previous[0], ParseHelper.parsed(previous[1]))
                    self._done(len(previous[0]))
                previous = current
                if current is not None and current[1] is None:  # parsed here, now
                    self._process_batch(current[0], None)
                    self._done(len(current[0]))
                    previous = None
        finally:
            if self._helper is not None:
                self._helper.close()
            connections.close_all()

    def _parser(self) -> ParseHelper:
        if self._helper is None:
            self._helper = ParseHelper(start_method="spawn")
        return self._helper

    @staticmethod
    def _rows(ids: list[int]) -> list[InboundMail]:
        try:
            return list(InboundMail.objects.filter(pk__in=ids).order_by("id"))
        except Exception:  # the rows stay stored; the next start processes them
            logger.exception("loading inbound mail %s failed", ids)
            close_old_connections()
            return []

    def _process_batch(self, rows: list[InboundMail], parsed: list[ParsedMail] | None) -> None:
        if not rows:
            return
        try:
            with self._turn():
                process_batch(rows, parsed, on_outcome=lambda outcome: None)
            self.processed += len(rows)
        except Exception:  # the rows stay stored; the next start retries them
            logger.exception("processing inbound mail %s failed", [r.pk for r in rows])
            close_old_connections()

    def _turn(self) -> AbstractContextManager[None]:
        sqlite = connections[router.db_for_write(InboundMail)].vendor == "sqlite"
        return self.turns.process() if sqlite else _no_turns()


class StoreBatcher:
    """Group commit: messages arriving together are stored in ONE transaction.

    Each SMTP session waits for its own message's commit before answering 250, but
    concurrent sessions share the disk flush, which is what a commit costs.
    """

    def __init__(
        self, on_stored: Callable[[int], None] | None, turns: WriteTurns | None = None
    ) -> None:
        self.on_stored = on_stored
        self.turns = turns
        self._queue: queue.Queue[tuple[RawMail, Future[int]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="smtp-store", daemon=True)
        self._thread.start()

    def submit(self, mail: RawMail) -> Future[int]:
        future: Future[int] = Future()
        self._queue.put((mail, future))
        return future

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._store(batch)
        connections.close_all()

    def _store(self, batch: list[tuple[RawMail, Future[int]]]) -> None:
        # The thread keeps its database connection from batch to batch: with
        # CONN_MAX_AGE=0, close_old_connections() would close it every time, and a new
        # connection per batch (SQLite: open, pragmas, WAL checkpoint on close;
        # PostgreSQL: a new backend) cost more than the store. After a failure the
        # connection is dropped, so the next batch starts on a fresh one.
        try:
            sqlite = connections[router.db_for_write(InboundMail)].vendor == "sqlite"
            with self.turns.store() if self.turns and sqlite else _no_turns():
                rows = store_mails([mail for mail, _ in batch])
        except Exception as exc:
            logger.exception("storing %d inbound message(s) failed; answered 451", len(batch))
            connections.close_all()
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), row in zip(batch, rows, strict=True):
            if self.on_stored is not None:
                self.on_stored(row.pk)  # queued for processing before the 250 goes out
            future.set_result(row.pk)


class IntakeHandler:
    """aiosmtpd handler: the cheap checks in the event loop, then the message goes to
    the group-commit thread and the session awaits its commit (no thread of its own
    blocks on it), answering 250 only after it."""

    def __init__(self, *, route: str, worker: IntakeWorker | None) -> None:
        self.route = route
        self.batcher = StoreBatcher(
            worker.submit if worker else None, worker.turns if worker else None
        )

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        mail = receivable(
            envelope.original_content or b"",
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
            route=self.route,
        )
        if isinstance(mail, str):
            reply = mail
        else:
            try:
                reply = OK.format(id=await asyncio.wrap_future(self.batcher.submit(mail)))
            except Exception:
                logger.exception("storing an inbound message failed; answered 451")
                reply = TEMPORARY
        if isinstance(server, LMTP):
            # LMTP answers once per recipient; the message is stored once for all.
            return "\r\n".join([reply] * max(1, len(envelope.rcpt_tos)))
        return reply

    def close(self) -> None:
        self.batcher.stop()


def _rewrite(status: str) -> str:
    # aiosmtpd's own size refusals, given the enhanced status code RFC 3463 defines.
    if status.startswith("552 Error"):
        return "552 5.3.4 Message size exceeds fixed maximum message size"
    return status


_END_OF_DATA = b"\r\n.\r\n"


# `<local@domain>` with a dot-atom local part and a plain host name, then the parameters:
# what nearly every MAIL FROM and RCPT TO carries. aiosmtpd parses each with the email
# package's RFC 5322 header parser, which cost more CPU than storing the message.
_PLAIN_PATH = re.compile(
    r"<((?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+\.)*[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+)>(.*)",
    re.DOTALL,
)


class _FastData:
    """MAIL FROM/RCPT TO paths and DATA read with less CPU than aiosmtpd's own (same
    results; anything unusual takes aiosmtpd's way).

    DATA read in large chunks instead of aiosmtpd's line by line (which costs more
    CPU than storing the message). Same protocol: ends only at <CRLF>.<CRLF>, undoes
    dot-stuffing, refuses more than `data_size_limit` with 552 after the terminator."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        match = _PLAIN_PATH.match(arg.lstrip()) if arg else None
        rest = match.group(2).lstrip(" \t") if match else ""
        if match is None or rest.startswith("("):  # a comment after the path, say
            return super()._getaddr(arg)  # type: ignore[misc, no-any-return]
        address = match.group(1)
        limit = getattr(self, "local_part_limit", 0)
        if limit and len(address.rpartition("@")[0]) > limit:
            return None, None
        return address, rest

    async def smtp_DATA(self, arg: str) -> None:
        server: Any = self
        if await server.check_helo_needed() or await server.check_auth_needed("DATA"):
            return
        if not server.envelope.rcpt_tos:
            await server.push("503 Error: need RCPT command")
            return
        if arg:
            await server.push("501 Syntax: DATA")
            return
        await server.push("354 End data with <CR><LF>.<CR><LF>")
        limit = server.data_size_limit
        # A virtual CRLF in front, so that an empty message (".\r\n" at once) ends too.
        buffer = bytearray(b"\r\n")
        search_from = 0
        too_much = False
        while True:
            chunk = await server._reader.read(65536)
            if not chunk:  # connection closed in the middle of DATA: nothing to answer
                return
            buffer += chunk
            end = buffer.find(_END_OF_DATA, search_from)
            if end >= 0:
                leftover = bytes(buffer[end + len(_END_OF_DATA):])
                if leftover:  # pipelined commands after the data: give them back
                    server._reader._buffer[0:0] = leftover
                data = bytes(buffer[: end + 2])
                break
            if limit and len(buffer) - 2 > limit:
                too_much = True
                del buffer[: len(buffer) - 4]  # keep only what a terminator may start in
            search_from = max(0, len(buffer) - len(_END_OF_DATA) + 1)
        if too_much or (limit and len(data) - 2 > limit):
            server._set_post_data_state()
            await server.push("552 5.3.4 Message size exceeds fixed maximum message size")
            return
        content = data.replace(b"\r\n.", b"\r\n")[2:]  # RFC 5321 4.5.2 transparency
        server.envelope.content = content
        server.envelope.original_content = content
        status = await server._call_handler_hook("DATA")
        server._set_post_data_state()
        await server.push("250 OK" if status is MISSING else status)


class _SMTP(_FastData, SMTP):
    async def push(self, status: str) -> None:
        await super().push(_rewrite(status))


class _LMTP(_FastData, LMTP):
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
    *, host: str = "127.0.0.1", port: int = 2525, lmtp: bool = False, process: bool = True
) -> Listener:
    """Start the listener and its processing thread (stop it with `.stop()`).

    With `process=False` the listener only stores; another process (the worker's
    `process_pending_mail` task, `supportdesk process-mail`) turns the mail into tickets.
    """
    worker = IntakeWorker()
    if process:
        worker.start()
    route = InboundMail.Route.LMTP if lmtp else InboundMail.Route.SMTP
    handler = IntakeHandler(route=route, worker=worker if process else None)
    controller = IntakeController(handler, lmtp=lmtp, hostname=host, port=port)
    try:
        controller.start()
    except BaseException:
        handler.close()
        worker.stop()
        raise
    return Listener(controller, handler, worker)
