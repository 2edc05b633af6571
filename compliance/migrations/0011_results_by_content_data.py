"""Results and tallies by content, step 2 of 3: copy every evaluation's results and tallies into the new tables.

Not atomic: evaluations are copied in batches of 100, each batch in a short transaction of its own. On a live
PostgreSQL database it reads the old tables (ACCESS SHARE: readers and writers go on) and writes only the new ones
and the three new columns of the evaluations it copies (row locks for the batch). The old rows stay until 0012; an
interrupted run resumes where it stopped. Each old result id is kept in ResultAlias (old id -> new id).
"""

from django.db import migrations

from compliance.migrations._results_by_content import move_all, move_back


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0010_results_by_content")]

    operations = [migrations.RunPython(move_all, move_back, elidable=False)]
