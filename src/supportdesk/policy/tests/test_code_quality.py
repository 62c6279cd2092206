"""Lint and types run as part of the tests: ruff over src and bench, strict mypy on policy/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing_in_src_and_bench() -> None:
    result = run("ruff", "check", "--no-cache", "src", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_policy_engine() -> None:
    # files, strictness and exclusions come from [tool.mypy] in pyproject.toml
    result = run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "src/supportdesk/policy" in " ".join(_mypy_files())


def _mypy_files() -> list[str]:
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mypy"]["files"])
