"""Compact evaluations, step 2 of 3: fill the new columns from the old ones.

Not atomic: rows are filled in batches of 1,000 by id, each batch in a short transaction of its own. On a live
PostgreSQL database it takes row locks of the batch only (readers and writers go on); the old columns stay until
0016; an interrupted run resumes where it stopped. An evaluation whose counts are not the sums of its tallies stops
it (nothing is dropped). Backward: the old columns filled again from the new ones, in batches.
"""

from django.db import migrations

from compliance.migrations._compact_evaluations import fill, fill_back


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0014_compact_evaluations")]

    operations = [migrations.RunPython(fill, fill_back, elidable=False)]
