"""Every role views reports in the admin (they are read-only there)."""

from django.db import migrations

from compliance.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0008_tally_snapshot_control"),
        ("reports", "0001_initial"),
    ]
    operations = [migrations.RunPython(_roles.grant, migrations.RunPython.noop)]
