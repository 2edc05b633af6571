"""Dropping (and restoring) the `_like` twins Django gives indexed varchar columns on PostgreSQL (issue 13).

A `varchar_pattern_ops` index serves only LIKE 'prefix%' queries; no query reads a sha256 or digest so, and each
twin costs as much as the unique index beside it. Dropped and created CONCURRENTLY (the migrations using this are
non-atomic), so reads and writes go on meanwhile; on other databases there is nothing to do.
"""

from __future__ import annotations

from typing import Any


def _existing(cursor: Any, table: str, column: str) -> list[str]:
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
        "AND indexdef LIKE %s",
        [table, f"%({column} varchar_pattern_ops)%"],
    )
    return [row[0] for row in cursor.fetchall()]


def drop_like_indexes(columns: list[tuple[str, str]]) -> Any:
    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for table, column in columns:
                for name in _existing(cursor, table, column):
                    cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')

    return forwards


def create_like_indexes(columns: list[tuple[str, str]]) -> Any:
    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for table, column in columns:
                if _existing(cursor, table, column):
                    continue
                name = schema_editor._create_index_name(table, [column], suffix="_like")
                cursor.execute(
                    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)'
                )

    return backwards
