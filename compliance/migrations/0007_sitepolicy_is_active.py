"""The site policy that applies is explicit: an `is_active` flag, at most one active row.

Before, only the row named "default" was used and any other was silently ignored; so the row named "default" (if
any) becomes the active one and the others stay inactive: what applies does not change, it becomes visible.
"""

from typing import Any

from django.db import migrations, models


def activate_default(apps: Any, schema_editor: Any) -> None:
    SitePolicy = apps.get_model("compliance", "SitePolicy")
    SitePolicy.objects.filter(name="default").update(is_active=True)


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0006_alter_evaluation_status"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="sitepolicy",
            options={"ordering": ["-is_active", "name"], "verbose_name_plural": "site policies"},
        ),
        migrations.AddField(
            model_name="sitepolicy",
            name="is_active",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(activate_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sitepolicy",
            name="is_active",
            field=models.BooleanField(
                default=True,
                help_text="The active policy is the one every evaluation uses; at most one policy is active.",
            ),
        ),
        migrations.AddConstraint(
            model_name="sitepolicy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)), fields=("is_active",), name="sitepolicy_one_active",
                violation_error_message="Only one site policy can be active.",
            ),
        ),
    ]
