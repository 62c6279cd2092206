"""Prometheus metrics at /metrics, in the text exposition format (version 0.0.4).

Counts come from the database at scrape time, so every process of a fleet answers
the same; the intake-latency histogram is kept in the database too (one UPDATE per
intake, see `observe_intake_latency`). Access: `Authorization: Bearer
<SUPPORTDESK_METRICS_TOKEN>`, or a signed-in supervisor (staff) session.
"""

from __future__ import annotations

import atexit
import hmac
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min
from django.http import HttpRequest, HttpResponse

from supportdesk import clock
from supportdesk.sla.models import INF_BUCKET, IntakeLatencyBucket, Notice, Page, WorkerBeat
from supportdesk.tickets.models import OPEN_STATUSES, Ticket

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds from "the channel got it" to "the ticket exists" (portal: a request; email:
# from SMTP reception, so a queue of unprocessed mail shows here).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


# --- recording intake latency -----------------------------------------------------------------

# Observations are counted in memory and added to the database at most every
# FLUSH_SECONDS (and before every scrape), so the intake path pays no extra write.
FLUSH_SECONDS = 10.0
_buffer_lock = threading.Lock()
_buffer: dict[str, list[float]] = {}  # channel -> [count per bucket..., +Inf count, sum]
_last_flush = time.monotonic()


def flush_at_exit() -> None:
    # Short-lived commands (ingest-email, fetch-mail, import) end before FLUSH_SECONDS:
    # without this their observations would never reach the shared histogram.
    try:
        flush_intake_latency()
    except Exception:  # the process is ending; never turn that into a traceback
        logger.exception("could not record intake latencies at exit")


atexit.register(flush_at_exit)


def observe_intake_latency(channel: str, seconds: float) -> None:
    """Count one intake of `channel` that took `seconds` (never fails the intake)."""
    global _last_flush
    seconds = max(float(seconds), 0.0)
    index = bisect_left(LATENCY_BUCKETS, seconds)
    with _buffer_lock:
        cells = _buffer.setdefault(channel, [0.0] * (len(LATENCY_BUCKETS) + 2))
        cells[index] += 1
        cells[-1] += seconds
        due = time.monotonic() - _last_flush >= FLUSH_SECONDS
    if due:
        flush_intake_latency()


def flush_intake_latency() -> None:
    """Add this process's counted observations to the shared histogram."""
    global _last_flush
    with _buffer_lock:
        pending = {channel: cells[:] for channel, cells in _buffer.items()}
        _buffer.clear()
        _last_flush = time.monotonic()
    if not pending:
        return
    try:
        with transaction.atomic():
            for channel, cells in pending.items():
                _add(channel, cells)
    except Exception:
        logger.exception("could not record intake latencies; %s observations lost",
                         sum(sum(cells[:-1]) for cells in pending.values()))


def discard_unflushed() -> None:
    """Forget observations not yet written (tests start from a clean histogram)."""
    with _buffer_lock:
        _buffer.clear()


def _add(channel: str, cells: list[float]) -> None:
    if not IntakeLatencyBucket.objects.filter(channel=channel).exists():
        IntakeLatencyBucket.objects.bulk_create(
            [IntakeLatencyBucket(channel=channel, le=le) for le in (*LATENCY_BUCKETS, INF_BUCKET)],
            ignore_conflicts=True,
        )
    cumulative = 0.0
    for le, count in zip((*LATENCY_BUCKETS, INF_BUCKET), cells[:-1], strict=True):
        cumulative += count
        if cumulative:
            extra = {"sum_seconds": F("sum_seconds") + cells[-1]} if le == INF_BUCKET else {}
            IntakeLatencyBucket.objects.filter(channel=channel, le=le).update(
                count=F("count") + int(cumulative), **extra
            )


# --- the exposition --------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(str(value))}"' for name, value in labels.items()) + "}"


def _number(value: float) -> str:
    if value == float("inf") or value >= INF_BUCKET:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]],
               suffix: str = "") -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{suffix}{_labels(**labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(now: datetime | None = None) -> str:
    now = now or clock.now()
    flush_intake_latency()
    out = Exposition()
    opened = Ticket.objects.values_list("channel").annotate(n=Count("id")).order_by()
    out.metric("supportdesk_tickets_opened_total", "counter", "Tickets opened, by channel.",
               (({"channel": channel}, n) for channel, n in opened))
    open_by_queue = (Ticket.objects.filter(status__in=OPEN_STATUSES)
                     .values_list("queue").annotate(n=Count("id")).order_by())
    out.metric("supportdesk_open_tickets", "gauge", "Open tickets (new, open, pending), by queue.",
               (({"queue": queue}, n) for queue, n in open_by_queue))
    notices = dict(Notice.objects.values_list("kind").annotate(n=Count("id")).order_by())
    out.metric("supportdesk_sla_warnings_total", "counter", "SLA warnings recorded.",
               [({}, notices.get(Notice.Kind.WARNING, 0))])
    out.metric("supportdesk_sla_breaches_total", "counter",
               "SLA breaches recorded (stamped at the due time).",
               [({}, notices.get(Notice.Kind.BREACH, 0))])
    overdue = Ticket.objects.filter(
        first_responded_at__isnull=True, first_response_due__lte=now, status__in=OPEN_STATUSES
    ).count()
    out.metric("supportdesk_sla_overdue_open_tickets", "gauge",
               "Open tickets past their first-response due time and not answered.", [({}, overdue)])
    _latency(out)
    _worker(out, now)
    pages = Page.objects.filter(outcome="", acknowledged_at__isnull=True).count()
    out.metric("supportdesk_oncall_pages_unacknowledged", "gauge",
               "On-call pages waiting for an acknowledgement.", [({}, pages)])
    return out.text()


def _latency(out: Exposition) -> None:
    name = "supportdesk_intake_latency_seconds"
    cells = list(IntakeLatencyBucket.objects.order_by("channel", "le"))
    out.lines.append(f"# HELP {name} Seconds from receiving a request to its ticket existing, by channel.")
    out.lines.append(f"# TYPE {name} histogram")
    for cell in cells:
        out.lines.append(f"{name}_bucket{_labels(channel=cell.channel, le=_number(cell.le))} {cell.count}")
        if cell.le >= INF_BUCKET:
            out.lines.append(f"{name}_sum{_labels(channel=cell.channel)} {_number(cell.sum_seconds)}")
            out.lines.append(f"{name}_count{_labels(channel=cell.channel)} {cell.count}")


def _worker(out: Exposition, now: datetime) -> None:
    oldest_due = Ticket.objects.filter(next_sla_at__lte=now).aggregate(oldest=Min("next_sla_at"))["oldest"]
    lag = (now - oldest_due).total_seconds() if oldest_due else 0.0
    out.metric("supportdesk_worker_lag_seconds", "gauge",
               "How long the oldest due SLA moment has waited for a worker (0 when none is waiting).",
               [({}, round(lag, 3))])
    from django_tasks_db.models import DBTaskResult

    waiting = (DBTaskResult.objects.ready().values_list("queue_name")
               .annotate(oldest=Min("enqueued_at")).order_by())
    out.metric("supportdesk_task_queue_lag_seconds", "gauge",
               "Age of the oldest task ready to run, by django-tasks queue.",
               (({"queue": queue}, round(max((now - oldest).total_seconds(), 0.0), 3)) for queue, oldest in waiting))
    beats = WorkerBeat.objects.order_by("worker_id")
    out.metric("supportdesk_worker_last_sweep_timestamp_seconds", "gauge",
               "When each worker last swept (Unix time).",
               (({"worker": beat.worker_id}, round(beat.last_sweep_at.timestamp(), 3)) for beat in beats))


# --- the view ----------------------------------------------------------------------------------


def allowed(request: HttpRequest) -> bool:
    token = settings.SUPPORTDESK_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer "):].strip().encode(), token.encode())
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        response = HttpResponse("authentication required: send Authorization: Bearer <token>\n",
                                status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="supportdesk metrics"'
        return response
    response = HttpResponse(render(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
