"""Where the shared test data lives: `<repo root>/../shared` (CI lays it there too)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[5]


def shared_dir() -> Path:
    configured = os.environ.get("SUPPORTDESK_SHARED_DIR")
    path = Path(configured) if configured else (REPO_ROOT / ".." / "shared").resolve()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data missing at {path}")
        pytest.skip(f"shared test data not found at {path}")
    return path


def corpora() -> Path:
    return shared_dir() / "corpora"


def corpus_files(*folders: str) -> list[Path]:
    root = (REPO_ROOT / ".." / "shared" / "corpora").resolve()
    if os.environ.get("SUPPORTDESK_SHARED_DIR"):
        root = Path(os.environ["SUPPORTDESK_SHARED_DIR"]) / "corpora"
    files: list[Path] = []
    for folder in folders:
        files += sorted(p for p in (root / folder).rglob("*") if p.is_file() and p.suffix != ".yml")
    return files


class _RubyYamlLoader(yaml.SafeLoader):
    """Zammad's expectations use Ruby tags; read them as plain YAML values."""


def _ruby_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return base64.b64decode(value) if suffix == "binary" else value


_RubyYamlLoader.add_multi_constructor("!", _ruby_tag)


def load_expectation(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_RubyYamlLoader)  # noqa: S506 - SafeLoader subclass
