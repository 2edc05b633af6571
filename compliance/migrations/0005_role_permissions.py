"""Give the role groups the model permissions of the apps added since 0001 (label rules, site policy, posture, audit)."""

from django.db import migrations

from compliance.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0004_tally_is_current"),
        ("inventory", "0002_labels"),
        ("posture", "0001_initial"),
        ("audit", "0001_initial"),
    ]
    operations = [migrations.RunPython(_roles.grant, migrations.RunPython.noop)]
