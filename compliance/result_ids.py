"""The ids of results stored by content (docs/storage.md).

A result is a row of the `compliance_result` view: (evaluation, target group in the evaluation's result set, result in
the group). Its id is computed from those, so it is stable and needs no storage:

    id = BASE + evaluation_id * 2**22 + group_index * 2**10 + position

with group_index < 4096 targets per snapshot and position < 1024 results per target. BASE (2**40) keeps every such
id above the ids results had before the change (kept in compliance.ResultAlias, which the lookups here follow, so an
id printed in an old report still finds its result).

A computed id cannot use an index; the lookups on it (exact, in, any) also name the evaluation the id encodes, which
the evaluation's primary key finds.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.lookups import Exact, In

from common.lookups import AnyArray

BASE = 2**40
EVALUATION_SHIFT = 2**22
GROUP_SHIFT = 2**10
MAX_GROUPS = EVALUATION_SHIFT // GROUP_SHIFT
MAX_POSITION = GROUP_SHIFT


def result_id(evaluation_id: int, group_index: int, position: int) -> int:
    if not 0 <= group_index < MAX_GROUPS or not 0 <= position < MAX_POSITION:
        raise ValueError(f"a snapshot holds at most {MAX_GROUPS} targets of at most {MAX_POSITION} results each")
    return BASE + evaluation_id * EVALUATION_SHIFT + group_index * GROUP_SHIFT + position


def evaluation_of(result_id: int) -> int | None:
    """The evaluation a result id encodes; None for an id from before the change (see ResultAlias)."""
    return (result_id - BASE) // EVALUATION_SHIFT if result_id >= BASE else None


# The SQL of the id column of the view, on the view's aliases (e: evaluation, g: set element, r: row).
def id_sql(evaluation: str, group_index: str, position: str) -> str:
    return f"({BASE} + {evaluation} * {EVALUATION_SHIFT} + ({group_index}) * {GROUP_SHIFT} + {position})"


class _ByEvaluation:
    """Adds to an id lookup the condition on the evaluation the ids encode, which an index answers."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = super().as_sql(compiler, connection)  # type: ignore[misc]
        return self._by_evaluation(sql, list(params), compiler, connection)

    def _by_evaluation(self, sql: str, params: list[Any], compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        values = self._values()
        alias = getattr(self.lhs, "alias", None)  # type: ignore[attr-defined]
        if values is None or alias is None:
            return sql, params
        column = f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name('evaluation_id')}"
        evaluations = sorted({e for e in map(evaluation_of, values) if e is not None})
        legacy = sorted(v for v in values if v < BASE)
        if not legacy:
            if not evaluations:
                return sql, params
            marks = ", ".join(["%s"] * len(evaluations))
            return f"({column} IN ({marks}) AND {sql})", [*evaluations, *params]
        # Ids from before the change: the result the alias names (its evaluation first, for the index).
        marks = ", ".join(["%s"] * len(legacy))
        alias_table = connection.ops.quote_name("compliance_resultalias")
        lhs, lhs_params = self.process_lhs(compiler, connection)  # type: ignore[attr-defined]
        old = f"SELECT new_id FROM {alias_table} WHERE old_id IN ({marks})"
        by_alias = (f"({column} IN (SELECT (new_id - {BASE}) / {EVALUATION_SHIFT} FROM {alias_table} "
                    f"WHERE old_id IN ({marks})) AND {lhs} IN ({old}))")
        parts, part_params = [by_alias], [*legacy, *lhs_params, *legacy]
        if evaluations:
            marks = ", ".join(["%s"] * len(evaluations))
            parts.append(f"({column} IN ({marks}) AND {sql})")
            part_params += [*evaluations, *params]
        return "(" + " OR ".join(parts) + ")", part_params

    def _values(self) -> list[int] | None:
        rhs = self.rhs  # type: ignore[attr-defined]
        if isinstance(rhs, bool):
            return None
        if isinstance(rhs, int):
            return [rhs]
        if isinstance(rhs, (list, tuple, set, frozenset)) and all(isinstance(v, int) for v in rhs):
            return [int(v) for v in rhs]
        return None


class IdExact(_ByEvaluation, Exact):
    pass


class IdIn(_ByEvaluation, In):
    pass


class IdAny(_ByEvaluation, AnyArray):
    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = super().as_postgresql(compiler, connection)
        return self._by_evaluation(sql, list(params), compiler, connection)


class ResultIdField(models.BigIntegerField):
    """The computed id of a result (see the module); its lookups find results by the evaluation the id encodes."""

    def get_lookup(self, lookup_name: str) -> Any:
        own = {"exact": IdExact, "in": IdIn, "any": IdAny}.get(lookup_name)
        return own or super().get_lookup(lookup_name)


# A result set's group ids, compact (docs/storage.md): on PostgreSQL a bytea, one byte giving the width w (1 to 8) then
# each id big-endian in w bytes, w the fewest bytes the largest id needs (3 up to 16.7 million groups); the view
# unfolds it with get_byte. Elsewhere (SQLite) a JSON list as text, which json_each unfolds.

def pack_ids(ids: list[int]) -> bytes:
    width = max(1, (max(ids, default=0).bit_length() + 7) // 8)
    if width > 8 or any(i < 0 for i in ids):
        raise ValueError("group ids are non-negative 64-bit integers")
    return bytes([width]) + b"".join(i.to_bytes(width, "big") for i in ids)


def unpack_ids(packed: bytes) -> list[int]:
    width = packed[0]
    return [int.from_bytes(packed[at:at + width], "big") for at in range(1, len(packed), width)]


def unpack_ids_sql(column: str, index: str) -> str:
    """PostgreSQL: the id at 0-based `index` of a packed column (pack_ids), as bigint."""
    width = f"get_byte({column}, 0)"
    terms = [f"CASE WHEN {k} < {width} THEN get_byte({column}, 1 + ({index}) * {width} + {k})::bigint "
             f"<< (8 * ({width} - 1 - {k})) ELSE 0 END" for k in range(8)]
    return "(" + " | ".join(terms) + ")"


def count_ids_sql(column: str) -> str:
    """PostgreSQL: how many ids a packed column holds."""
    return f"((length({column}) - 1) / get_byte({column}, 0))"


class GroupIdsField(models.Field):
    """An ordered list of ids, packed on PostgreSQL (pack_ids), a JSON list elsewhere."""

    description = "Ordered ids (packed bytea on PostgreSQL, JSON text elsewhere)"

    def db_type(self, connection: Any) -> str:
        return "bytea" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        ids = [int(i) for i in value]
        if connection.vendor == "postgresql":
            return pack_ids(ids)
        return json.dumps(ids, separators=(",", ":"))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return unpack_ids(bytes(value))
        return [int(i) for i in json.loads(value)]

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return self.from_db_value(value, None, None)
