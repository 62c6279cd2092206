"""Line numbers for TOML keys, so every policy problem can say FILE:LINE.

tomllib returns plain dicts without positions. This scanner reads the source once and
records the line of every table header (`[a.b]`), every `key = ...` line and every key
of a one-line inline table (`targets = { low = "..." }`). It is not a TOML parser: it
only has to find keys in files tomllib has already accepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)

Path = tuple[str, ...]


def split_dotted(dotted: str) -> Path:
    """'a."b.c".d' -> ('a', 'b.c', 'd')."""
    parts = []
    for match in _PART.finditer(dotted):
        part = match.group(0)
        if part[0] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


class KeyLines:
    """Where each key of a TOML document is written."""

    def __init__(self, source: str) -> None:
        self._lines: dict[Path, int] = {}
        table: Path = ()
        in_multiline = False
        for number, line in enumerate(source.splitlines(), start=1):
            if line.count('"""') % 2 or line.count("'''") % 2:
                in_multiline = not in_multiline
                if not in_multiline:
                    continue
            if in_multiline:
                continue
            header = _HEADER.match(line)
            if header:
                table = split_dotted(header.group(1))
                self._lines.setdefault(table, number)
                continue
            assignment = _ASSIGN.match(line)
            if assignment:
                key = table + split_dotted(assignment.group(1))
                self._record(key, number)
                self._record_inline(key, assignment.group(2), number)

    def _record(self, key: Path, number: int) -> None:
        for depth in range(1, len(key) + 1):
            self._lines.setdefault(key[:depth], number)

    def _record_inline(self, key: Path, value: str, number: int) -> None:
        if not value.lstrip().startswith("{"):
            return
        for inner in _INLINE_KEY.finditer(value):
            self._lines.setdefault(key + split_dotted(inner.group(1)), number)

    def line(self, path: Sequence[str]) -> int:
        """The line of `path`, or of its nearest written parent (1 if none)."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1
