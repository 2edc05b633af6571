"""Bulk inserts of the rows a snapshot brings (containers, results): COPY on PostgreSQL, bulk_create elsewhere.

A 200-container snapshot brings 200 container rows and about 6,000 result rows; building model instances and
binding each value through the ORM costs more than the database's own work, so PostgreSQL gets them by COPY.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, models


def _json(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows (values in `columns` order, database column names) in one statement, in the current transaction.

    Values of JSONField columns are Python objects; they are serialised here.
    """
    fields = {f.column: f for f in model._meta.concrete_fields}
    json_at = [i for i, column in enumerate(columns) if isinstance(fields[column], models.JSONField)]
    if connection.vendor == "postgresql":
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = _json(row[i])
                copy.write_row(row)
        return
    attnames = [fields[column].attname for column in columns]
    model.objects.bulk_create([model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=1000)
