"""Id arrays as `integer[]` instead of `bigint[]` on PostgreSQL (inventory 0011, compliance 0019; issue 13).

A set's record ids and a result set's group ids are ids of tables that grow with change, not with time (about 50
million rows a year at 10,000 hosts pushing hourly), far from integer's 2,147,483,647: 4 bytes an id instead of 8,
about 120 bytes a repeat snapshot. A column is converted only while the ids its source table has handed out (its
sequence) leave at least as many again; otherwise it stays `bigint[]` (the code writes array literals, which either
type takes).

Live, like compliance 0018: a new column is filled in batches of 1,000 rows, each its own transaction; then one short
transaction holding the table fills what was written meanwhile, swaps the columns and rebuilds the views over the
table (their definitions as PostgreSQL holds them). Backwards the same, to `bigint[]`. SQLite keeps its JSON list.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

BATCH = 1000
INT_MAX = 2**31 - 1
ROOM = INT_MAX // 2  # converted only while the ids handed out leave at least as many again


def _column_type(cursor: Any, table: str, column: str) -> str:
    cursor.execute("SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                   "WHERE a.attrelid = %s::regclass AND a.attname = %s AND NOT a.attisdropped", [table, column])
    return cursor.fetchone()[0]


def _dependent_views(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the views that read `table`."""
    cursor.execute("""
        SELECT DISTINCT v.relname, pg_get_viewdef(v.oid)
        FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class
        WHERE d.refobjid = %s::regclass AND d.classid = 'pg_rewrite'::regclass AND v.oid <> d.refobjid
        ORDER BY 1""", [table])
    return cursor.fetchall()


def convert(connection: Any, table: str, column: str, to: str, ids_from: str) -> None:
    """Turn `table`.`column` into `to` ("integer[]" or "bigint[]"); `ids_from` is the table its ids point into."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _column_type(cursor, table, column) == to:
            return
        if to == "integer[]":
            # The ids handed out so far (the sequence counts rolled-back and skipped ones too): with less room left
            # than was used, the column stays bigint[].
            cursor.execute(f"SELECT GREATEST(COALESCE(MAX(id), 0), COALESCE(pg_sequence_last_value("  # noqa: S608
                           f"pg_get_serial_sequence('{ids_from}', 'id')::regclass), 0)) FROM {ids_from}")
            if cursor.fetchone()[0] > ROOM:
                return
        new = f"{column}_{to[:-2]}"
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {new} {to}")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        top = cursor.fetchone()[0]
    fill = f"UPDATE {table} SET {new} = {column}::{to} WHERE {new} IS NULL AND {column} IS NOT NULL"  # noqa: S608
    for last in range(0, top, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"{fill} AND id > %s AND id <= %s", [last, last + BATCH])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(fill)
        views = _dependent_views(cursor, table)
        for name, _ in views:
            cursor.execute(f"DROP VIEW {name}")
        cursor.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        cursor.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {column}")
        for name, definition in views:
            cursor.execute(f"CREATE VIEW {name} AS {definition}")
