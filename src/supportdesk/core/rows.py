"""Prepared single-table reads and inserts for the hot path of ticket intake.

Building SQL through the ORM costs a few hundred microseconds per query on our
machines, more than SQLite takes to run it. Opening a ticket needs about seven queries,
so the intake path (identify the sender, find the subscription, insert ticket, message
and event) prepares its SQL once per model and database from the model's own field
definitions, and converts values with the same field converters the ORM uses. The
result is ordinary model instances. Everything else uses the ORM.

No `save()`/signals run for rows inserted here; nothing in supportdesk relies on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import AutoField, BigAutoField, Field, Model, SmallAutoField
from django.db.models.base import ModelState

M = TypeVar("M", bound=Model)
_AUTO = (AutoField, BigAutoField, SmallAutoField)


@dataclass(frozen=True)
class _Reader:
    columns: str  # "t"."a", "t"."b", ...
    table: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[Callable[..., Any], Any], ...]  # (converter, expression) per field


@dataclass(frozen=True)
class _Writer:
    sql: str
    fields: tuple[Field, ...]  # type: ignore[type-arg]
    returns_pk: bool
    # Per field: True when a str/int/bool/None value goes to the database unchanged
    # (text, numbers, booleans, foreign keys), so the prep call can be skipped.
    plain: tuple[bool, ...]
    # Per field: a DateTimeField, whose aware values `adapt_datetime` converts (when
    # set for this database) exactly as the backend's adapt_datetimefield_value does.
    datetimes: tuple[bool, ...]
    adapt_datetime: Callable[[datetime], Any] | None
    # Per field, for `_params`' loop: (attname, kind, field, default) with kind 0 for a
    # plain field, 1 for a DateTimeField, 3 for a JSONField stored as text (SQLite, no
    # custom encoder), 2 for any other; default makes a missing value.
    columns: tuple[tuple[str, int, Any, Callable[[], Any]], ...] = ()


# Field types whose database value is the Python value itself for str/int/bool/None.
_PLAIN_TYPES = {
    "CharField", "TextField", "EmailField", "SlugField", "BooleanField", "IntegerField",
    "BigIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey", "OneToOneField",
}
_PLAIN_VALUES = (str, int, bool, type(None))
_JSON_CONTAINERS = (dict, list)


@lru_cache(maxsize=1024)
def _sqlite_utc_text(value: datetime) -> str:
    # SQLite's adapt_datetimefield_value with USE_TZ and a UTC connection: naive UTC text.
    # Cached: the rows of one batch mostly share one instant (its processing time).
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _unchanged(value: datetime) -> datetime:
    return value  # PostgreSQL's adapt_datetimefield_value: psycopg sends aware datetimes


def _datetime_adapter(connection: Any) -> Callable[[datetime], Any] | None:
    if connection.vendor == "postgresql":
        return _unchanged
    if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone_name == "UTC":
        return _sqlite_utc_text
    return None  # anything else takes the field's own prep


_readers: dict[tuple[type[Model], str], _Reader] = {}
_writers: dict[tuple[type[Model], str], _Writer] = {}


def _reader(model: type[Model], using: str) -> _Reader:
    key = (model, using)
    reader = _readers.get(key)
    if reader is None:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = meta.concrete_fields
        converters: list[tuple[Callable[..., Any], Any]] = []
        for index, field in enumerate(fields):
            col = field.get_col(meta.db_table)
            chain = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            for converter in chain:
                converters.append((converter, (index, col)))
        reader = _Reader(
            columns=", ".join(f"{quote(meta.db_table)}.{quote(f.column)}" for f in fields),
            table=quote(meta.db_table),
            attnames=tuple(f.attname for f in fields),
            converters=tuple(converters),
        )
        _readers[key] = reader
    return reader


def columns(model: type[Model], *, alias: str = "", using: str = "default") -> str:
    """The model's columns for a SELECT list, qualified by `alias` (default: its table)."""
    reader = _reader(model, using)
    if not alias:
        return reader.columns
    quote = connections[using].ops.quote_name
    return ", ".join(
        f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields
    )


def width(model: type[Model]) -> int:
    """How many columns `columns(model)` selects."""
    return len(model._meta.concrete_fields)


def table(model: type[Model], *, using: str = "default") -> str:
    return connections[using].ops.quote_name(model._meta.db_table)


def build(model: type[M], values: Sequence[Any], *, using: str = "default") -> M:
    """A model instance from one row's values for `columns(model)` (converted as the ORM does)."""
    reader = _reader(model, using)
    connection = connections[using]
    converted = list(values)
    for converter, (index, col) in reader.converters:
        converted[index] = converter(converted[index], col, connection)
    return model.from_db(using, reader.attnames, converted)


def fetch(sql: str, params: Sequence[Any], *, using: str = "default") -> list[tuple[Any, ...]]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def select(
    model: type[M],
    *,
    where: str,
    params: Sequence[Any],
    order_by: str = "",
    limit: int | None = None,
    using: str = "default",
) -> list[M]:
    """Instances of `model` matching `where` (SQL over its column names, %s params)."""
    reader = _reader(model, using)
    sql = f"SELECT {reader.columns} FROM {reader.table} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [build(model, row, using=using) for row in fetch(sql, params, using=using)]


def _writer(model: type[Model], using: str) -> _Writer:
    key = (model, using)
    writer = _writers.get(key)
    if writer is None:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = tuple(f for f in meta.concrete_fields if not isinstance(f, _AUTO))
        returns_pk = isinstance(meta.pk, _AUTO)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if returns_pk:
            assert meta.pk is not None
            sql += f" RETURNING {quote(meta.pk.column)}"
        plain = tuple(f.get_internal_type() in _PLAIN_TYPES for f in fields)
        datetimes = tuple(f.get_internal_type() == "DateTimeField" for f in fields)
        writer = _Writer(
            sql=sql,
            fields=fields,
            returns_pk=returns_pk,
            plain=plain,
            datetimes=datetimes,
            adapt_datetime=_datetime_adapter(connection),
            columns=tuple(
                (f.attname, 0 if is_plain else 1 if is_datetime else 3 if _json_text(f, connection) else 2,
                 f, f.get_default)
                for f, is_plain, is_datetime in zip(fields, plain, datetimes, strict=True)
            ),
        )
        _writers[key] = writer
    return writer


def _json_text(field: Field, connection: Any) -> bool:  # type: ignore[type-arg]
    # Django's base adapt_json_value: json.dumps(value, cls=field.encoder); PostgreSQL
    # wraps the value for psycopg instead, so only SQLite takes the shortcut.
    return (
        field.get_internal_type() == "JSONField"
        and connection.vendor == "sqlite"
        and getattr(field, "encoder", None) is None
    )


def insert(obj: Model, *, using: str = "default") -> None:
    """INSERT the instance (its primary key is set from the database)."""
    writer = _writer(type(obj), using)
    connection = connections[using]
    params = []
    for field, plain in zip(writer.fields, writer.plain, strict=True):
        if plain:
            value = getattr(obj, field.attname)
            if type(value) in _PLAIN_VALUES:
                params.append(value)
                continue
        params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(writer.sql, params)
        if writer.returns_pk:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using


def insert_values(model: type[Model], values: dict[str, Any], *, using: str = "default") -> Any:
    """INSERT one row from `values` (attname -> value; a missing field takes its default)
    without building a model instance; returns the new primary key (None for a model
    without an automatic one). No `pre_save` runs: not for auto_now or file fields."""
    writer = _writer(model, using)
    connection = connections[using]
    params = _params(writer, values, connection)
    with connection.cursor() as cursor:
        cursor.execute(writer.sql, params)
        return cursor.fetchone()[0] if writer.returns_pk else None


def _params(writer: _Writer, values: dict[str, Any], connection: Any) -> list[Any]:
    # Runs once per row written on the intake path: one pass over precomputed columns.
    params: list[Any] = []
    append = params.append
    adapt_datetime = writer.adapt_datetime
    for attname, kind, field, default in writer.columns:
        value = values[attname] if attname in values else default()
        if kind == 0 and type(value) in _PLAIN_VALUES:
            append(value)
        elif (
            kind == 1
            and adapt_datetime is not None
            and type(value) is datetime
            and value.tzinfo is not None
        ):
            append(adapt_datetime(value))
        elif kind == 3 and type(value) in _JSON_CONTAINERS:
            append(json.dumps(value))
        else:
            append(field.get_db_prep_save(value, connection))
    return params


def instance(model: type[M], values: dict[str, Any], *, using: str = "default") -> M:
    """The model instance of a row just written from `values` (attname -> value, a missing
    field takes its default), as `from_db` would give it but without running `__init__`
    (a third of the cost of opening a ticket went to model construction). Related
    objects already at hand may be put in `related` afterwards with `remember`."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = using
    obj._state = state
    attrs = obj.__dict__
    for field in model._meta.concrete_fields:
        name = field.attname
        attrs[name] = values[name] if name in values else field.get_default()
    return obj


def remember(obj: Model, name: str, related: Model | None) -> None:
    """Cache the related object of foreign key `name` on `obj` (no query to load it)."""
    obj._state.fields_cache[name] = related


def insert_select(
    model: type[Model],
    values: dict[str, Any],
    *,
    source: str,
    expressions: dict[str, tuple[str, list[Any]]],
    returning: str = "",
    using: str = "default",
) -> tuple[str, list[Any]]:
    """`INSERT INTO <model> (...) SELECT ... FROM <source>`, for one statement of several
    CTEs (PostgreSQL): each field takes its value from `values` (as `insert_values`
    prepares it, cast to its column type) or, when named in `expressions`, an SQL
    expression over `source`'s columns with its own parameters."""
    writer = _writer(model, using)
    connection = connections[using]
    params = _params(writer, values, connection)
    select, bound = [], []
    for field, param in zip(writer.fields, params, strict=True):
        if field.attname in expressions:
            sql, extra = expressions[field.attname]
            select.append(sql)
            bound.extend(extra)
        else:
            select.append(f"%s::{field.cast_db_type(connection)}")
            bound.append(param)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in writer.fields)}) "
        f"SELECT {', '.join(select)} FROM {source}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    return sql, bound


def _max_params(connection: Any) -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return int(connection.features.max_query_params or 65535)


def insert_many(
    model: type[Model],
    values: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    using: str = "default",
) -> list[tuple[Any, ...]]:
    """INSERT many rows, each from its `values` dict as `insert_values` takes it. Returns
    the `returning` columns of every row written, in no particular order (the databases
    do not promise the order of RETURNING rows: return a unique column to match them).

    SQLite: multi-row VALUES statements, as few as its parameter limit allows.
    PostgreSQL: one statement whatever the number of rows, a column's values as one
    array (`INSERT … SELECT * FROM unnest(…)`): a VALUES list of thousands of
    parameters cost the server more to parse and plan than to write the rows, and
    every batch size was a new statement; this one's text depends only on the table."""
    if not values:
        return []
    writer = _writer(model, using)
    connection = connections[using]
    quote = connection.ops.quote_name
    columns_sql = ", ".join(quote(f.column) for f in writer.fields)
    suffix = f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""
    written: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            table_rows = [_params(writer, row, connection) for row in values]
            arrays = [list(column) for column in zip(*table_rows, strict=True)]
            casts = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in writer.fields)
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns_sql}) "
                f"SELECT * FROM unnest({casts}){suffix}",
                arrays,
            )
            if returning:
                written.extend(tuple(row) for row in cursor.fetchall())
            return written
        one_row = f"({', '.join(['%s'] * len(writer.fields))})"
        per_statement = max(1, _max_params(connection) // len(writer.fields))
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            params = [p for row in chunk for p in _params(writer, row, connection)]
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({columns_sql}) "
                f"VALUES {', '.join([one_row] * len(chunk))}{suffix}"
            )
            cursor.execute(sql, params)
            if returning:
                written.extend(tuple(row) for row in cursor.fetchall())
    return written
