"""`supportdesk policy check|show|due`: validate, print and apply the support policy."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.core.policy_source import active_policy, active_policy_path
from supportdesk.policy import (
    AccountStatus,
    Channel,
    Policy,
    PolicyError,
    Severity,
    decide_sla,
    load_policy,
)

OPENED_EXAMPLE = "2026-11-30T15:00-03:00"


class OneLineParser(CommandParser):
    """Argument errors as ONE line naming the valid values (no usage block)."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            sys.exit(2)
        raise CommandError(f"{self.prog}: {message}", returncode=2)


def opened_instant(value: str) -> datetime:
    """--opened: ISO 8601 with an offset (or Z)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date-time; give e.g. {OPENED_EXAMPLE}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no time-zone offset; give an offset, e.g. {OPENED_EXAMPLE}"
        )
    return moment


class Command(BaseCommand):
    help = "Check, show and apply the support policy (plans, clocks, SLA matrix)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser  # the top level too: "policy frob" is one line
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", metavar="{check,show,due,replay}", parser_class=OneLineParser, required=True
        )
        check = actions.add_parser(
            "check", help="validate a policy file (default: the active policy)"
        )
        check.add_argument("file", nargs="?", help="policy TOML file")
        show = actions.add_parser("show", help="print the plan matrix")
        show.add_argument("--format", choices=["table", "json"], default="table")
        show.add_argument("--policy", help="policy TOML file (default: the active policy)")
        due = actions.add_parser("due", help="decide a ticket's first-response SLA")
        due.add_argument("--plan", required=True, help="plan id, e.g. gold")
        due.add_argument("--severity", required=True, choices=[s.value for s in Severity])
        due.add_argument("--status", default="active", choices=[s.value for s in AccountStatus])
        due.add_argument("--channel", default="portal", choices=[c.value for c in Channel])
        due.add_argument(
            "--opened", required=True, type=opened_instant, help=f"e.g. {OPENED_EXAMPLE}"
        )
        due.add_argument("--policy", help="policy TOML file (default: the active policy)")
        from supportdesk.sla.replay_cli import add_replay_parser  # the SLA runtime owns replay

        add_replay_parser(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "check":
            self._check(options["file"])
        elif action == "replay":
            from supportdesk.sla.replay_cli import run_replay

            run_replay(self, options)
        elif action == "show":
            self._show(self._policy(options["policy"]), options["format"])
        else:
            self._due(self._policy(options["policy"]), options)

    def _policy(self, file: str | None) -> Policy:
        try:
            return load_policy(file) if file else active_policy()
        except PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"the policy has {_count(exc.problems)}; fix it and try again"
            ) from None

    def _check(self, file: str | None) -> None:
        path = Path(file) if file else active_policy_path()
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{path}: {_count(exc.problems)}; the policy was not loaded"
            ) from None
        self.stdout.write(
            f"{path}: OK, policy version {policy.version}: {len(policy.plans)} plans "
            f"({', '.join(policy.plans)}), {len(policy.calendars)} calendars "
            f"({', '.join(policy.calendars)})"
        )

    def _show(self, policy: Policy, output: str) -> None:
        rows = [_plan_row(policy, plan_id) for plan_id in policy.plans]
        if output == "json":
            self.stdout.write(
                json.dumps({"policy_version": policy.version, "plans": rows}, indent=2)
            )
            return
        header = [
            "plan",
            "name",
            "family",
            "sold until",
            "channels",
            "coverage",
            "Low",
            "Medium",
            "High",
        ]
        table = [header] + [
            [
                row["id"],
                row["name"],
                row["family"],
                row["sold_until"] or "still sold",
                ", ".join(row["channels"]),
                row["coverage"],
                *row["targets"].values(),
            ]
            for row in rows
        ]
        widths = [max(len(line[column]) for line in table) for column in range(len(header))]
        self.stdout.write(f"policy version {policy.version}")
        for line in table:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(line, widths, strict=True)
                ).rstrip()
            )

    def _due(self, policy: Policy, options: dict[str, Any]) -> None:
        if options["plan"] not in policy.plans:
            raise CommandError(
                f"--plan: unknown plan {options['plan']!r}; valid plans: {', '.join(policy.plans)}",
                returncode=2,
            )
        decision = decide_sla(
            policy,
            plan=options["plan"],
            status=options["status"],
            severity=options["severity"],
            channel=options["channel"],
            opened_at=options["opened"],
        )
        result = decision.to_dict()
        if decision.due is not None and decision.coverage is not None:
            zone = policy.calendars[decision.coverage].zone
            result["due_local"] = decision.due.astimezone(zone).isoformat()
        self.stdout.write(json.dumps(result, ensure_ascii=False))


def _plan_row(policy: Policy, plan_id: str) -> dict[str, Any]:
    plan = policy.plans[plan_id]
    return {
        "id": plan.id,
        "name": plan.name,
        "family": plan.family,
        "sold_until": plan.sold_until.isoformat() if plan.sold_until else None,
        "availability": plan.availability,
        "channels": [channel.value for channel in plan.channel_list()],
        "coverage": plan.coverage,
        "targets": {severity.value: plan.targets[severity].text for severity in Severity},
        "account_manager": plan.account_manager,
        "technical_account_manager": plan.technical_account_manager,
        "max_points_of_contact": plan.max_points_of_contact,
    }


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
