"""Content keys (sha256 hex) kept unique by a hash index instead of a B-tree (issue 13, docs/storage.md).

A B-tree entry of a 64-character key costs about 80 bytes and every stored snapshot, record, result group or set adds
one (three for a snapshot row, which its evaluation status updates twice); a hash index entry holds a 4-byte hash
code: about 20 bytes. PostgreSQL keeps such a column unique with an exclusion constraint over a hash index
(`EXCLUDE USING hash (col WITH =)`): an insert of an existing key fails as a unique one did (IntegrityError), and
`INSERT ... ON CONFLICT DO NOTHING` (bulk_create's ignore_conflicts) skips it as before. Lookups by key (`=` and
`IN`) use the hash index. On SQLite the unique index stays as it is.

The model fields say `unique=False` (Django knows no hash exclusion constraint); the migrations that swap the indexes
use these functions. Adding the constraint builds its index while holding the table (seconds per million rows; ingest
waits and agents spool meanwhile), then the B-tree is dropped.
"""

from __future__ import annotations

from typing import Any


def constraint_name(table: str, column: str) -> str:
    return f"{table}_{column}_hash_unique"[:63]


def to_hash(columns: list[tuple[str, str]]) -> Any:
    def forwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        for table, column in columns:
            with connection.cursor() as cursor:
                constraints = connection.introspection.get_constraints(cursor, table)
                name = constraint_name(table, column)
                if name not in constraints:
                    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" EXCLUDE USING hash ("{column}" WITH =)')
                for old, info in constraints.items():
                    if info["unique"] and info["columns"] == [column] and not info["primary_key"]:
                        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{old}"')

    return forwards


def to_btree(columns: list[tuple[str, str]]) -> Any:
    def backwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        for table, column in columns:
            with connection.cursor() as cursor:
                constraints = connection.introspection.get_constraints(cursor, table)
                if not any(info["unique"] and info["columns"] == [column] for info in constraints.values()):
                    key = f"{table}_{column}_key"[:63]
                    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{key}" UNIQUE ("{column}")')
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{constraint_name(table, column)}"')

    return backwards
