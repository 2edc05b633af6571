"""Results and tallies by content, step 3 of 3: the old tables give way to views of the same names and columns.

One transaction. On PostgreSQL it first takes SHARE ROW EXCLUSIVE locks on the evaluations and the old tables (reads
go on, writers wait) and copies what was judged since 0011 (usually nothing: stop the workers first, evaluations
wait queued), then drops the old tables (ACCESS EXCLUSIVE, brief) and creates the views. Reads through Result and
ControlTally are the same before and after; writes go through compliance.services only.
"""

import django.db.models.deletion
from django.db import migrations, models

import compliance.result_ids
from compliance.migrations._results_by_content import catch_up
from compliance.result_ids import BASE, EVALUATION_SHIFT, GROUP_SHIFT

TALLY_SHIFT = 4096
COLUMNS = ("passed", "failed", "info", "manual", "not_applicable", "error")

RESULT_VIEW = {
    "postgresql": f"""
CREATE VIEW compliance_result AS
SELECT ({BASE} + e.id * {EVALUATION_SHIFT} + (g.idx - 1) * {GROUP_SHIFT} + r.position)::bigint AS id,
       e.id AS evaluation_id, e.snapshot_id, e.host_id, e.is_current,
       r.control, grp.target_kind, grp.target_name, grp.target_id, grp.target_state,
       r.status, c.evidence, c.expected, c.message
FROM compliance_evaluation e
JOIN compliance_resultset s ON s.id = e.result_set_id
CROSS JOIN LATERAL jsonb_array_elements_text(s.groups) WITH ORDINALITY AS g(group_id, idx)
JOIN compliance_resultgroup grp ON grp.id = g.group_id::bigint
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
JOIN json_each(s.groups) g
JOIN compliance_resultgroup grp ON grp.id = g.value
JOIN compliance_resultrow r ON r.result_list_id = grp.result_list_id
JOIN compliance_resultcontent c ON c.id = r.content_id""",
}
TALLY_VIEW = f"""
CREATE VIEW compliance_controltally AS
SELECT e.id * {TALLY_SHIFT} + t.position AS id, e.id AS evaluation_id, e.snapshot_id, e.host_id, e.is_current,
       t.control, t.stopped, {", ".join(f"t.{c}" for c in COLUMNS)}
FROM compliance_evaluation e
JOIN compliance_tallyrow t ON t.tally_set_id = e.tally_set_id"""


def create_views(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(RESULT_VIEW.get(vendor, RESULT_VIEW["postgresql"]))
    schema_editor.execute(TALLY_VIEW)


def drop_views(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS compliance_result")
    schema_editor.execute("DROP VIEW IF EXISTS compliance_controltally")


def view_fk(to, related_name):
    return models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                             related_name=related_name, to=to)


class Migration(migrations.Migration):

    dependencies = [("compliance", "0011_results_by_content_data")]

    operations = [
        migrations.RunPython(catch_up, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="evaluation",
            name="host",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="inventory.host"),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.DeleteModel(name="ControlTally"),
                migrations.DeleteModel(name="Result"),
                migrations.RunPython(create_views, drop_views, elidable=False),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="result", name="result_snapshot_control"),
                migrations.RemoveIndex(model_name="result", name="result_host_status"),
                migrations.RemoveIndex(model_name="controltally", name="tally_evaluation_control"),
                migrations.RemoveIndex(model_name="controltally", name="tally_snapshot_control"),
                migrations.RemoveConstraint(model_name="controltally", name="tally_unique_per_evaluation_control"),
                migrations.AlterField(model_name="result", name="id",
                                      field=compliance.result_ids.ResultIdField(primary_key=True, serialize=False)),
                migrations.AlterField(model_name="result", name="evaluation",
                                      field=view_fk("compliance.evaluation", "results")),
                migrations.AlterField(model_name="result", name="snapshot",
                                      field=view_fk("inventory.snapshot", "results")),
                migrations.AlterField(model_name="result", name="host", field=view_fk("inventory.host", "results")),
                migrations.AlterField(model_name="result", name="control", field=models.CharField(
                    help_text="CIS Docker recommendation id, e.g. 5.5.", max_length=16)),
                migrations.AlterField(model_name="result", name="status", field=models.CharField(
                    choices=[("pass", "Pass"), ("fail", "Fail"), ("info", "Info"), ("manual", "Manual"),
                             ("not_applicable", "Not applicable"), ("error", "Error")], max_length=16)),
                migrations.AlterField(model_name="controltally", name="evaluation",
                                      field=view_fk("compliance.evaluation", "tallies")),
                migrations.AlterField(model_name="controltally", name="snapshot",
                                      field=view_fk("inventory.snapshot", "+")),
                migrations.AlterField(model_name="controltally", name="host", field=view_fk("inventory.host", "+")),
                migrations.AlterModelOptions(name="result", options={"managed": False, "ordering": ["snapshot_id", "id"]}),
                migrations.AlterModelOptions(name="controltally", options={"managed": False}),
            ],
        ),
    ]
