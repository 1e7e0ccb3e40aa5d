"""Rows into a table with one binary ``COPY``, for the bulk loaders of a rebuild.

Binary rather than text: psycopg writes UUIDs, timestamps, dates and numbers in their wire
form instead of formatting each as text, and the server does not parse them back (half the
write time of the case views, docs/benchmarks.md). Binary COPY needs each column's type,
read from the catalog once per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Connection, sql


def column_types(
    conn: Connection[Any], schema: str, table: str, columns: Sequence[str]
) -> list[str]:
    """The type of each of ``columns`` as PostgreSQL names it (``format_type``)."""
    name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    found = dict(
        conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (name.as_string(conn),),
        ).fetchall()
    )
    return [found[column] for column in columns]


def copy_rows(
    conn: Connection[Any],
    schema: str,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """``COPY schema.table (columns) FROM STDIN (FORMAT BINARY)`` with psycopg's row writer."""
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )
    types = column_types(conn, schema, table, columns)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
