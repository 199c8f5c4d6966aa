"""Bulk statements shared by the importers: one multi-row upsert per table and page.

On PostgreSQL a page is COPYed into a temporary staging table and merged from there with one
INSERT .. SELECT .. ON CONFLICT; on SQLite it goes in as multi-row VALUES, split to the
connection's variable limit. Callers pass the conflict target, the columns to update and a
guard, so unchanged rows are not written and a row never goes back to an older version.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from contextlib import contextmanager

import orjson
from django.db import connection, models, transaction

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


def _json_columns(fields: Sequence[models.Field]) -> list[int]:
    return [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]


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
        return _insert_postgres(model, names, fields, rows, conflict, tail, bool(returning))
    return _insert_sqlite(table, names, fields, rows, tail, bool(returning))


@contextmanager
def postgres_cursor():
    """A server-side-binding cursor on Django's own connection (so inside its transaction):
    parameters travel in binary (`%b`), never quoted into the SQL text. Errors come out as
    Django's (IntegrityError, ...), as from any other query."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _insert_postgres(model, names, fields, rows, conflict, tail, returning) -> list[tuple]:
    """COPY the rows into a staging table shaped like the target's columns, then merge them
    in one statement. On a page of a thousand orders COPY costs a third of the client CPU,
    and two thirds of the server time, of binding the same rows as arrays to `unnest()`."""
    table = _quote(model._meta.db_table)
    # One staging table per target and column list, private to this connection.
    stage = _quote(f"stage_{model._meta.db_table}_{zlib.crc32(names.encode()):08x}")
    json_at = _json_columns(fields)
    if json_at:
        rows = [_with_json_text(row, json_at) for row in rows]
    # Rows merge in the conflict target's order: concurrent pages lock rows in one order and
    # cannot deadlock, whatever order the caller built them in.
    order = f" ORDER BY {', '.join(_quote(c) for c in conflict)}" if conflict else ""
    # Only model metadata and our own fragments reach the SQL text; values travel by COPY.
    # The merge empties the stage as it reads it (a later call in this transaction starts
    # empty); ON COMMIT DELETE ROWS then truncates it at commit, which keeps a temporary
    # table (never autovacuumed) from growing, without the catalog churn of a TRUNCATE.
    with transaction.atomic(savepoint=False), postgres_cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "  # noqa: S608
            f"INSERT INTO {table} ({names}) SELECT {names} FROM staged{order}{tail}"
        )
        return [tuple(r) for r in cursor.fetchall()] if returning else []


def _with_json_text(row: Sequence, positions: list[int]) -> tuple:
    values = list(row)
    for i in positions:
        if values[i] is not None:
            # orjson: a page has thousands of small JSON values (line items' modifiers).
            values[i] = orjson.dumps(values[i]).decode()
    return tuple(values)


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
