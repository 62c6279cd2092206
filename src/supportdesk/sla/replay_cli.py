"""`supportdesk policy replay`: the CLI side of `sla.replay` (hooked into the policy command)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportdesk.policy import PolicyError, load_policy
from supportdesk.sla.replay import GROUPINGS, ReplayResult, ReplayRow, replay


def since_date(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; give e.g. 2026-01-01") from None
    from supportdesk.sla.reports import report_zone

    return datetime.combine(day, datetime.min.time(), tzinfo=report_zone()).astimezone(UTC)


def add_replay_parser(actions: Any) -> None:
    parser = actions.add_parser(
        "replay", help="recompute answered tickets' SLA outcomes under another policy, beside the real ones"
    )
    parser.add_argument("--policy", required=True, help="the policy TOML file to try")
    parser.add_argument("--since", type=since_date, help="only tickets opened on or after this date (YYYY-MM-DD)")
    parser.add_argument("--by", choices=GROUPINGS, default="plan", help="group the table by (default: plan)")
    parser.add_argument("--format", choices=["auto", "table", "json"], default="auto",
                        help="table on a terminal, JSON lines when piped (default: auto)")


def run_replay(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        policy = load_policy(options["policy"])
    except PolicyError as exc:
        for problem in exc.problems:
            command.stderr.write(problem)
        raise CommandError(f"{options['policy']}: the policy has problems; fix it and try again") from None
    except OSError as exc:
        raise CommandError(f"cannot read {options['policy']}: {exc.strerror or exc}") from None
    output = options["format"]
    if output == "auto":
        output = "table" if _isatty(command.stdout) else "json"
    show_progress = sys.stderr.isatty()

    def progress(seen: int) -> None:
        if show_progress:
            sys.stderr.write(f"\rreplaying: {seen:,} tickets")
            sys.stderr.flush()

    result = replay(policy, since=options.get("since"), by=options["by"], progress=progress)
    if show_progress:
        sys.stderr.write("\n")
    if output == "json":
        for row in [*result.rows, result.total]:
            command.stdout.write(json.dumps({"by": result.by, **row.as_dict(), "policy_version": result.policy_version}))
        return
    command.stdout.write(render_table(result))


def _isatty(stream: Any) -> bool:
    underlying = getattr(stream, "_out", stream)
    return bool(getattr(underlying, "isatty", lambda: False)())


def _share(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "-"


def render_table(result: ReplayResult) -> str:
    header = [result.by, "tickets", "real met", "breached", "no SLA", "met %",
              "new met", "breached", "no SLA", "met %", "change", "due earlier", "due later"]

    def line(row: ReplayRow) -> list[str]:
        real, new = row.real, row.replayed
        change = "-"
        if real.met_share is not None and new.met_share is not None:
            change = f"{(new.met_share - real.met_share) * 100:+.1f} pp"
        return [row.key, f"{row.tickets:,}", f"{real.met:,}", f"{real.breached:,}", f"{real.no_sla:,}",
                _share(real.met_share), f"{new.met:,}", f"{new.breached:,}", f"{new.no_sla:,}",
                _share(new.met_share), change, f"{row.due_earlier:,}", f"{row.due_later:,}"]

    table = [header, *(line(row) for row in result.rows), line(result.total)]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
    since = f" since {result.since.date().isoformat()}" if result.since else ""
    out = [f"answered tickets{since}: real outcomes | replayed under policy {result.policy_version}"]
    for index, cells in enumerate(table):
        if index == len(table) - 1:
            out.append("  ".join("-" * width for width in widths))
        out.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip())
    return "\n".join(out)
