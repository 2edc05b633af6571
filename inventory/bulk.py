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


def store_parts(part_model: type[models.Model], parts: dict[str, bytes], pack: Any) -> None:
    """Store the document parts not stored yet (sha256 -> stored form); `pack` compresses a stored form."""
    if not parts:
        return
    known = set(part_model.objects.filter(sha256__in=list(parts)).values_list("sha256", flat=True))
    missing = [part_model(sha256=sha, data=pack(stored)) for sha, stored in parts.items() if sha not in known]
    # A part another push is storing right now is the same bytes: whichever lands first serves both.
    part_model.objects.bulk_create(missing, batch_size=500, ignore_conflicts=True)


def ids_by_digest(record_model: type[models.Model], digests: list[str]) -> dict[str, int]:
    """digest -> id of the stored records among these, in one query (on PostgreSQL one array parameter: a query
    with a placeholder per digest costs more to build than to run)."""
    if not digests:
        return {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(record_model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT digest, id FROM {table} WHERE digest = ANY(%s::text[])", [digests])
            return dict(cursor.fetchall())
    return dict(record_model.objects.filter(digest__in=digests).values_list("digest", "pk"))


def insert_records(record_model: type[models.Model], rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Insert records (digest -> field values) in one statement; returns digest -> id of those inserted here (on
    PostgreSQL). A record another push is storing right now is the same content, and whichever lands first serves
    both (ON CONFLICT DO NOTHING).

    On PostgreSQL one array parameter per column (`INSERT ... SELECT * FROM unnest(...)`), in digest order so two
    pushes never deadlock: building a model instance per row costs more than the database's own work."""
    if not rows:
        return {}
    digests = sorted(rows)
    if connection.vendor != "postgresql":
        record_model.objects.bulk_create([record_model(digest=d, **rows[d]) for d in digests], batch_size=500,
                                         ignore_conflicts=True)
        return {}
    fields = [f for f in record_model._meta.concrete_fields if not f.primary_key]
    columns, params, arrays = [], [], []
    for field in fields:
        if field.attname == "digest":
            values: list[Any] = digests
        else:
            values = [rows[d][field.attname] for d in digests]
        if isinstance(field, models.JSONField):
            values, cast = [_json(v) for v in values], "text[]::jsonb[]"
        else:
            cast = f"{field.db_type(connection)}[]"
        columns.append(connection.ops.quote_name(field.column))
        params.append(values)
        arrays.append(f"%s::{cast}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(record_model._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT * FROM unnest({', '.join(arrays)}) ON CONFLICT DO NOTHING RETURNING digest, id",
            params,
        )
        return dict(cursor.fetchall())


def store_set(
    record_model: type[models.Model], set_model: type[models.Model], rows: list[dict[str, Any]], digest: Any,
    previous: tuple[int | None, list[int] | None] = (None, None),
) -> int:
    """The id of the set holding `rows` (record field values, in position order), storing what is new.

    Records are keyed by the digest of their values. `previous` is the host's previous snapshot's set (id, record
    ids): when the rows come to the same records in the same order, that set is reused and nothing is written.
    """
    digests = [digest(row) for row in rows]
    wanted = dict(zip(digests, rows, strict=True))
    records = ids_by_digest(record_model, list(wanted))
    if len(records) < len(wanted):
        records.update(insert_records(record_model, {d: row for d, row in wanted.items() if d not in records}))
        if len(records) < len(wanted):  # stored meanwhile by a concurrent push (or not returned: SQLite)
            records = ids_by_digest(record_model, list(wanted))
    ids = [records[d] for d in digests]
    set_id, listed = previous
    if set_id is not None and listed == ids:
        return set_id
    return set_model.objects.create(records=ids).pk
