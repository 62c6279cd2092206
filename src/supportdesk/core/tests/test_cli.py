"""`supportdesk --help`: what a newcomer sees first."""

from __future__ import annotations

import os
import subprocess
import sys


def supportdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SUPPORTDESK_POLICY_FILE": ""},
    )


def test_help_lists_our_commands_first_each_with_what_it_does() -> None:
    result = supportdesk("--help")
    assert result.returncode == 0, result.stderr
    ours, _, django = result.stdout.partition("Django's own commands")
    for line in (
        "  init          Create or migrate the database, create a supervisor",
        "  import        Import customer accounts",
        "  export        Write every customer account",
        "  demo          Load demo data",
        "  policy        Check, show and apply the support policy",
        "  serve         Serve the web UI",
    ):
        assert line in ours, ours
    assert ", migrate," in django and "\n  migrate " not in ours


def test_a_command_keeps_its_own_help() -> None:
    result = supportdesk("help", "policy")
    assert result.returncode == 0
    assert "{check,show,due,replay}" in result.stdout
