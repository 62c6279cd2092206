"""`supportdesk serve`: the whole product in one process.

Web (waitress, threaded WSGI) in the foreground; the mail listener and the background
worker run beside it in threads, so the embedded default needs nothing else running.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web UI (and, with --smtp-port, the mail listener) in one process."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1", help="address for the web UI")
        parser.add_argument("--port", type=int, default=8000, help="port for the web UI")
        parser.add_argument(
            "--smtp-port", type=int, default=None, help="also accept mail by SMTP/LMTP on this port"
        )
        parser.add_argument("--threads", type=int, default=8, help="web worker threads")
        parser.add_argument(
            "--no-worker", action="store_true",
            help="do not run the embedded background worker (run `supportdesk worker` instead)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from waitress import serve

        # Collect first: WhiteNoise indexes STATIC_ROOT when the WSGI app is created.
        call_command("collectstatic", interactive=False, verbosity=0)

        from supportdesk.config.wsgi import application
        host, port = options["host"], options["port"]
        url_host = f"[{host}]" if ":" in host else host
        print(f"supportdesk is running: open http://{url_host}:{port}/", file=sys.stderr, flush=True)
        listener = None
        if options["smtp_port"]:
            from supportdesk.intake.email.smtp import start_listener

            # The mail listener runs in its own threads beside the web server.
            listener = start_listener(host=host, port=options["smtp_port"])
            print(f"mail intake on SMTP port {options['smtp_port']}", file=sys.stderr, flush=True)
        print(f"data directory: {settings.DATA_DIR}", file=sys.stderr, flush=True)
        worker_stop = None
        if not options["no_worker"]:
            from supportdesk.sla.worker import start_embedded

            # Tasks (mail, webhooks) and the SLA sweep, in a thread (supportdesk.sla.worker).
            _, worker_stop = start_embedded()
            print("background worker: embedded (tasks and SLA sweep)", file=sys.stderr, flush=True)
        try:
            serve(application, host=host, port=port, threads=options["threads"], ident="supportdesk")
        finally:
            if worker_stop is not None:
                worker_stop.set()
            if listener is not None:
                listener.stop()
