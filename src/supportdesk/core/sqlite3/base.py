"""Django's SQLite backend, converting each distinct statement's placeholders once.

Django rewrites every statement's `%s` placeholders to SQLite's `?` with a regular
expression on each execution. The intake writes a batch's tickets, messages and
events as multi-row INSERTs of thousands of placeholders, and that rewrite cost more
than a tenth of a bulk intake (bench/open_tickets.py). The statements repeat, so the
converted text is kept in a bounded cache; everything else is Django's backend.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=512)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class CursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)
