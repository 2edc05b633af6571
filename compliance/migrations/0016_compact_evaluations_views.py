"""Compact evaluations, step 3 of 3: the result view unfolds the packed group ids; the old columns go.

One transaction. On PostgreSQL it first takes SHARE ROW EXCLUSIVE locks on the evaluations, result sets and tally
sets (reads go on, writers wait) and fills what was judged since 0015 (usually nothing: stop the workers first,
evaluations wait queued), then drops the two views, drops Evaluation.policy and .counts and ResultSet.groups
(ACCESS EXCLUSIVE, brief: no rewrite) and creates the views again. Reads through Result and ControlTally are the same
before and after. Backward: the old columns come back (empty until 0015 backward fills them) and the old views.
"""

from importlib import import_module

from django.db import migrations

from compliance.migrations._compact_evaluations import catch_up
from compliance.result_ids import BASE, EVALUATION_SHIFT, GROUP_SHIFT, count_ids_sql, unpack_ids_sql

OLD = import_module("compliance.migrations.0012_results_views")

RESULT_VIEW = {
    "postgresql": f"""
CREATE VIEW compliance_result AS
SELECT ({BASE} + e.id * {EVALUATION_SHIFT} + g.idx * {GROUP_SHIFT} + r.position)::bigint AS id,
       e.id AS evaluation_id, e.snapshot_id, e.host_id, e.is_current,
       r.control, grp.target_kind, grp.target_name, grp.target_id, grp.target_state,
       r.status, c.evidence, c.expected, c.message
FROM compliance_evaluation e
JOIN compliance_resultset s ON s.id = e.result_set_id
CROSS JOIN LATERAL generate_series(0, {count_ids_sql("s.group_ids")} - 1) AS g(idx)
JOIN compliance_resultgroup grp ON grp.id = {unpack_ids_sql("s.group_ids", "g.idx")}
JOIN compliance_resultrow r ON r.result_list_id = grp.result_list_id
JOIN compliance_resultcontent c ON c.id = r.content_id""",
    "sqlite": f"""
CREATE VIEW compliance_result AS
SELECT ({BASE} + e.id * {EVALUATION_SHIFT} + CAST(g.key AS INTEGER) * {GROUP_SHIFT} + r.position) AS id,
       e.id AS evaluation_id, e.snapshot_id, e.host_id, e.is_current,
       r.control, grp.target_kind, grp.target_name, grp.target_id, grp.target_state,
       r.status, c.evidence, c.expected, c.message
FROM compliance_evaluation e
JOIN compliance_resultset s ON s.id = e.result_set_id
JOIN json_each(s.group_ids) g
JOIN compliance_resultgroup grp ON grp.id = g.value
JOIN compliance_resultrow r ON r.result_list_id = grp.result_list_id
JOIN compliance_resultcontent c ON c.id = r.content_id""",
}


def drop_views(apps, schema_editor):
    OLD.drop_views(apps, schema_editor)


def create_views(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(RESULT_VIEW.get(vendor, RESULT_VIEW["postgresql"]))
    schema_editor.execute(OLD.TALLY_VIEW)


class Migration(migrations.Migration):

    dependencies = [("compliance", "0015_compact_evaluations_data")]

    operations = [
        migrations.RunPython(catch_up, migrations.RunPython.noop, elidable=False),
        # Both views go while the tables change (SQLite rebuilds a table, which a view naming it would stop).
        migrations.RunPython(drop_views, OLD.create_views, elidable=False),
        migrations.RemoveField(model_name="evaluation", name="policy"),
        migrations.RemoveField(model_name="evaluation", name="counts"),
        migrations.RemoveField(model_name="resultset", name="groups"),
        migrations.RunPython(create_views, drop_views, elidable=False),
    ]
