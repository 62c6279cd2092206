"""Typed reads from a parsed TOML document that collect problems as FILE:LINE lines.

Each getter returns a value or None; a None always comes with a recorded problem (or
with a missing optional key), so the loader can keep going and report every mistake in
one run instead of stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from supportdesk.policy.toml_lines import KeyLines

Table = dict[str, Any]
_T = TypeVar("_T")


def dotted(path: Sequence[str]) -> str:
    return ".".join(path)


def suggest(word: str, options: Iterable[str]) -> str:
    """' (did you mean "x"?)' when one option is close to `word`."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Reader:
    def __init__(self, file: str, lines: KeyLines) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[str] = []

    def problem(self, path: Sequence[str], message: str) -> None:
        self.problems.append(f"{self.file}:{self.lines.line(path)}: {message}")

    def only(self, table: Table, path: Sequence[str], allowed: Sequence[str]) -> None:
        """Report keys of `table` that the format does not know (usually typos)."""
        where = f"in [{dotted(path)}]" if path else "at the top of the file"
        for key in table:
            if key not in allowed:
                self.problem(
                    (*path, key),
                    f'unknown key "{key}" {where}{suggest(key, allowed)}; '
                    f"expected one of: {', '.join(allowed)}",
                )

    def table(self, parent: Table, path: Sequence[str], *, required: bool = True) -> Table | None:
        key = path[-1]
        if key not in parent:
            if required:
                self.problem(path[:-1], f"missing [{dotted(path)}]; expected a table")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.problem(path, f"{dotted(path)} must be a table, not {_kind(value)}")
            return None
        return value

    def string(self, parent: Table, path: Sequence[str], *, required: bool = True) -> str | None:
        return self.typed(parent, path, str, "a string in quotes", required)

    def boolean(self, parent: Table, path: Sequence[str], *, default: bool) -> bool:
        value = self.typed(parent, path, bool, "true or false", required=False)
        return default if value is None else value

    def string_list(
        self, parent: Table, path: Sequence[str], *, required: bool = True
    ) -> list[str] | None:
        value = self.typed(parent, path, list, "a list of strings", required)
        if value is None:
            return None
        if not all(isinstance(item, str) for item in value):
            self.problem(path, f"{dotted(path)} must be a list of strings in quotes")
            return None
        return [str(item) for item in value]

    def positive_int(self, parent: Table, path: Sequence[str]) -> int | None:
        value = parent.get(path[-1])
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem(
                path, f"{dotted(path)} is {value!r}; expected a whole number of at least 1"
            )
            return None
        return value

    def a_date(self, value: Any, path: Sequence[str], what: str) -> date | None:
        """A TOML date (2022-07-01, no quotes); a quoted ISO date is accepted too."""
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(path, f"{what} {_show(value)} is not a date; expected a date like 2022-07-01")
        return None

    def typed(
        self, parent: Table, path: Sequence[str], kind: type[_T], expected: str, required: bool
    ) -> _T | None:
        key = path[-1]
        if key not in parent:
            if required:
                where = f"in [{dotted(path[:-1])}]" if path[:-1] else "at the top of the file"
                self.problem(path[:-1], f'missing key "{key}" {where}; expected {expected}')
            return None
        value = parent[key]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            self.problem(path, f"{dotted(path)} is {_show(value)}; expected {expected}")
            return None
        result: _T = value
        return result


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)
