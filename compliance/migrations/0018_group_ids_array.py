"""Issue 13: a result set's group ids as a native `bigint[]` on PostgreSQL (0014-0016 packed them in a bytea).

The view joined each result group on an expression of `get_byte` over `generate_series`, whose estimate of 1,000
ids a set led the planner to hash every result group for a page of 100 rows. The array is unfolded through
`jsonb_array_elements_text(to_jsonb(...))`, whose estimate (100) gives the plans 0013's jsonb column had; `unnest`
(estimate 10) led to 64,000 index probes for a fleet-wide CSV, `generate_subscripts` (1,000) to hash joins for one
host's pages. At 2,000 hosts, median ms, before issue 13 -> this: drill-down 2.2.1 62 -> 60, one host 52 -> 51, the
2.2.5 CSV 251 -> 219, host page 66 -> 62, CIS 5.4 67 -> 69 (the bytea: the result query of 2.2.1 27 ms against 9).
SQLite keeps its JSON list (the same storage: only the field's class changes). Non-atomic: the new column is filled
in batches of 1,000 sets, each its own transaction; then one short transaction holding the evaluations and result
sets fills what was judged meanwhile, swaps the columns and rebuilds the view. Reversible (packed again in batches).
"""

from importlib import import_module

from django.db import migrations, transaction

import inventory.rowsets
from compliance.result_ids import BASE, EVALUATION_SHIFT, GROUP_SHIFT, count_ids_sql, pack_ids, unpack_ids_sql

PACKED = import_module("compliance.migrations.0016_compact_evaluations_views")
BATCH = 1000

ARRAY_VIEW = f"""
CREATE VIEW compliance_result AS
SELECT ({BASE} + e.id * {EVALUATION_SHIFT} + (g.n - 1) * {GROUP_SHIFT} + r.position)::bigint AS id,
       e.id AS evaluation_id, e.snapshot_id, e.host_id, e.is_current,
       r.control, grp.target_kind, grp.target_name, grp.target_id, grp.target_state,
       r.status, c.evidence, c.expected, c.message
FROM compliance_evaluation e
JOIN compliance_resultset s ON s.id = e.result_set_id
CROSS JOIN LATERAL jsonb_array_elements_text(to_jsonb(s.group_ids)) WITH ORDINALITY AS g(group_id, n)
JOIN compliance_resultgroup grp ON grp.id = g.group_id::bigint
JOIN compliance_resultrow r ON r.result_list_id = grp.result_list_id
JOIN compliance_resultcontent c ON c.id = r.content_id"""

UNPACK = (f"ARRAY(SELECT {unpack_ids_sql('s.group_ids', 'g.i')} "
          f"FROM generate_series(0, {count_ids_sql('s.group_ids')} - 1) AS g(i) ORDER BY g.i)")


def _fill_arrays(cursor, last: int | None = None) -> None:
    where = "s.group_list IS NULL AND s.group_ids IS NOT NULL"
    if last is None:
        cursor.execute(f"UPDATE compliance_resultset s SET group_list = {UNPACK} WHERE {where}")
        return
    cursor.execute(f"UPDATE compliance_resultset s SET group_list = {UNPACK} WHERE {where} AND s.id > %s "
                   f"AND s.id <= %s", [last, last + BATCH])


def to_arrays(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE compliance_resultset ADD COLUMN IF NOT EXISTS group_list bigint[]")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM compliance_resultset")
        top = cursor.fetchone()[0]
    for last in range(0, top, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            _fill_arrays(cursor, last)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE compliance_evaluation, compliance_resultset IN SHARE ROW EXCLUSIVE MODE")
        _fill_arrays(cursor)
        cursor.execute("DROP VIEW compliance_result")
        cursor.execute("ALTER TABLE compliance_resultset DROP COLUMN group_ids")
        cursor.execute("ALTER TABLE compliance_resultset RENAME COLUMN group_list TO group_ids")
        cursor.execute(ARRAY_VIEW)


def to_packed(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE compliance_resultset ADD COLUMN IF NOT EXISTS group_packed bytea")
    last = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id, group_ids FROM compliance_resultset WHERE id > %s AND group_packed IS NULL "
                           "AND group_ids IS NOT NULL ORDER BY id LIMIT %s", [last, BATCH])
            rows = cursor.fetchall()
            for pk, ids in rows:
                cursor.execute("UPDATE compliance_resultset SET group_packed = %s WHERE id = %s", [pack_ids(ids), pk])
        if not rows:
            break
        last = rows[-1][0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE compliance_evaluation, compliance_resultset IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT id, group_ids FROM compliance_resultset WHERE group_packed IS NULL AND group_ids IS NOT NULL")
        for pk, ids in cursor.fetchall():
            cursor.execute("UPDATE compliance_resultset SET group_packed = %s WHERE id = %s", [pack_ids(ids), pk])
        cursor.execute("DROP VIEW compliance_result")
        cursor.execute("ALTER TABLE compliance_resultset DROP COLUMN group_ids")
        cursor.execute("ALTER TABLE compliance_resultset RENAME COLUMN group_packed TO group_ids")
        cursor.execute(PACKED.RESULT_VIEW["postgresql"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0017_content_keys_hashed")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="resultset", name="group_ids",
                    field=inventory.rowsets.RecordIdsField(
                        null=True, help_text="ResultGroup ids, in the order the engine judged the targets."),
                ),
            ],
            database_operations=[migrations.RunPython(to_arrays, to_packed, elidable=False)],
        ),
    ]
