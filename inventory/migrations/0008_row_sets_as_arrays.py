"""Issue 13: a container, image or network set holds its records' ids as one array column (bigint[] on PostgreSQL,
a JSON array on SQLite) instead of one member row per record, and no digest: ingest reuses the host's previous
snapshot's set when the list did not change (inventory/migrations/_row_sets_as_arrays.py). Non-atomic: the arrays
are filled in batches on a live database; the views are swapped in one short transaction (which first fills the
sets written meanwhile by code still running)."""

from django.db import migrations, models

import inventory.rowsets
from inventory.migrations._row_sets_as_arrays import (
    fill_digests,
    fill_members,
    fill_records,
    views_over_arrays,
    views_over_members,
)

SETS = ("containerset", "imageset", "networkset")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0007_storage_deltas")]

    # Every change to the set tables comes before the views read them: SQLite rebuilds a table to alter it, which a
    # view over it would not survive (the views before this migration read the member tables, not the sets).
    operations = [
        # No default when added: the rows already there are filled from their members (NULL: not filled yet).
        *(migrations.AddField(name, "records", inventory.rowsets.RecordIdsField(null=True)) for name in SETS),
        migrations.RunPython(fill_records, fill_members, elidable=False),
        *(migrations.AlterField(name, "digest", models.CharField(max_length=64, unique=True, null=True))
          for name in SETS),
        migrations.RunPython(migrations.RunPython.noop, fill_digests, elidable=False),
        *(migrations.RemoveField(name, "digest") for name in SETS),
        *(migrations.AlterField(name, "records", inventory.rowsets.RecordIdsField(null=True, default=list))
          for name in SETS),
        migrations.RunPython(views_over_arrays, views_over_members, elidable=False),
        migrations.DeleteModel("ContainerSetMember"),
        migrations.DeleteModel("ImageSetMember"),
        migrations.DeleteModel("NetworkSetMember"),
    ]
