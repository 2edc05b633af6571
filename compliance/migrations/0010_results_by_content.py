"""Results and tallies by content (docs/storage.md), step 1 of 3: the new tables, beside the old ones.

Creating empty tables and adding nullable columns to compliance_evaluation take brief locks only; nothing is copied.
"""

import django.db.models.deletion
from django.db import migrations, models

STATUSES = [("pass", "Pass"), ("fail", "Fail"), ("info", "Info"), ("manual", "Manual"),
            ("not_applicable", "Not applicable"), ("error", "Error")]


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0009_report_view_permission"),
        ("inventory", "0005_agent_token_binding"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResultAlias",
            fields=[
                ("old_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("new_id", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="ResultContent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("control", models.CharField(max_length=16)),
                ("status", models.CharField(choices=STATUSES, max_length=16)),
                ("evidence", models.JSONField(blank=True, default=dict)),
                ("expected", models.JSONField(blank=True, null=True)),
                ("message", models.TextField()),
            ],
        ),
        migrations.CreateModel(
            name="ResultList",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64, unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="ResultGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("target_kind", models.CharField(choices=[("host", "Host"), ("container", "Container"),
                                                          ("image", "Image")], max_length=16)),
                ("target_name", models.CharField(max_length=512)),
                ("target_id", models.CharField(blank=True, max_length=128)),
                ("target_state", models.CharField(blank=True, max_length=32)),
                ("result_list", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                                  related_name="+", to="compliance.resultlist")),
            ],
        ),
        migrations.CreateModel(
            name="ResultSet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("groups", models.JSONField(default=list, help_text="ResultGroup ids, in the order the engine judged "
                                                                    "the targets.")),
            ],
        ),
        migrations.CreateModel(
            name="TallySet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64, unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="ResultRow",
            fields=[
                ("pk", models.CompositePrimaryKey("result_list", "control", "position", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("control", models.CharField(max_length=16)),
                ("position", models.PositiveSmallIntegerField(help_text="Order in the list, as the engine judged.")),
                ("status", models.CharField(choices=STATUSES, max_length=16)),
                ("content", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                              related_name="+", to="compliance.resultcontent")),
                ("result_list", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="rows", to="compliance.resultlist")),
            ],
        ),
        migrations.CreateModel(
            name="TallyRow",
            fields=[
                ("pk", models.CompositePrimaryKey("tally_set", "control", "stopped", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("control", models.CharField(max_length=16)),
                ("stopped", models.BooleanField(default=False)),
                ("position", models.PositiveSmallIntegerField()),
                ("passed", models.PositiveIntegerField(default=0)),
                ("failed", models.PositiveIntegerField(default=0)),
                ("info", models.PositiveIntegerField(default=0)),
                ("manual", models.PositiveIntegerField(default=0)),
                ("not_applicable", models.PositiveIntegerField(default=0)),
                ("error", models.PositiveIntegerField(default=0)),
                ("tally_set", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                                related_name="rows", to="compliance.tallyset")),
            ],
        ),
        migrations.AddField(
            model_name="evaluation",
            name="host",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="inventory.host"),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="result_set",
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="compliance.resultset"),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="tally_set",
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="compliance.tallyset"),
        ),
    ]
