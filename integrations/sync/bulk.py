"""Bulk statements shared by the importers: one multi-row upsert per table and page.

On PostgreSQL rows go in from `unnest()`ed column arrays; on SQLite as multi-row VALUES, split
to the connection's variable limit. Callers pass the conflict target, the columns to update and
a guard, so unchanged rows are not written and a row never goes back to an older version.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from django.db import connection, models

SQLITE_DEFAULT_MAX_VARIABLES = 999


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _sqlite_max_variables() -> int:
    connection.ensure_connection()
    try:
        import sqlite3

        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python < 3.11
        return SQLITE_DEFAULT_MAX_VARIABLES


def _fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[c] for c in columns]


def _postgres_value(value, internal_type: str):
    if internal_type == "JSONField" and value is not None:
        from psycopg.types.json import Jsonb

        # orjson: a page has thousands of small JSON values (line items' modifiers).
        return Jsonb(value, dumps=orjson.dumps)
    return value


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    guard: str = "",
    returning: str = "",
) -> list[tuple]:
    """INSERT `rows` (tuples in `columns` order, Python values) in one statement per backend
    batch; with `conflict`, rows that already exist are updated (`update` columns, only where
    the SQL `guard` holds: `{table}` names the existing row, `excluded` the new one) or, with
    no `update`, left alone. Returns the rows written, as the SQL `returning` list says.
    """
    if not rows:
        return []
    table = _quote(model._meta.db_table)
    fields = _fields(model, columns)
    names = ", ".join(_quote(c) for c in columns)
    tail = ""
    if conflict:
        target = ", ".join(_quote(c) for c in conflict)
        if update:
            sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in update)
            tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
            if guard:
                tail += " WHERE " + guard.format(table=table)
        else:
            tail = f" ON CONFLICT ({target}) DO NOTHING"
    if returning:
        tail += " RETURNING " + returning
    if _postgres():
        return _insert_postgres(table, names, fields, rows, tail, bool(returning))
    return _insert_sqlite(table, names, fields, rows, tail, bool(returning))


def postgres_cursor():
    """A server-side-binding cursor on Django's own connection (so inside its transaction):
    parameters travel in binary (`%b`), never quoted into the SQL text."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _insert_postgres(table, names, fields, rows, tail, returning) -> list[tuple]:
    """One statement: the page's columns travel as binary arrays and `unnest()` turns them
    back into rows."""
    types = [f.db_type(connection) for f in fields]
    arrays = [
        [_postgres_value(v, f.get_internal_type()) for v in column]
        for f, column in zip(fields, zip(*rows, strict=True), strict=True)
    ]
    placeholders = ", ".join(f"%b::{t}[]" for t in types)
    # Only model metadata and our own fragments reach the SQL text; values are all bound.
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({placeholders}){tail}"  # noqa: S608
    with postgres_cursor() as cursor:
        cursor.execute(sql, arrays)
        return [tuple(r) for r in cursor.fetchall()] if returning else []


def _insert_sqlite(table, names, fields, rows, tail, returning) -> list[tuple]:
    per_row = len(fields)
    batch = max(1, _sqlite_max_variables() // per_row)
    one = "(" + ", ".join(["%s"] * per_row) + ")"
    result: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [
                f.get_db_prep_value(v, connection, prepared=False)
                for row in chunk
                for f, v in zip(fields, row, strict=True)
            ]
            values = ", ".join([one] * len(chunk))
            sql = f"INSERT INTO {table} ({names}) VALUES {values}{tail}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                result.extend(tuple(r) for r in cursor.fetchall())
    return result


# Only a newer source version replaces a row (a slower, older page never wins a race).
NEWER = (
    "{table}.version < excluded.version OR "
    "({table}.version = excluded.version AND {table}.updated_at < excluded.updated_at)"
)


def is_newer(version: int, updated_at, current: tuple[int, object]) -> bool:
    old_version, old_updated = current
    if version != old_version:
        return version > old_version
    return updated_at is not None and (old_updated is None or updated_at > old_updated)
