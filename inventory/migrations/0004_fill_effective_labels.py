"""Fill Host.effective_labels and one history row per host (from the host's first_seen_at).

The rule is copied from inventory.models.effective_labels as it is now: a migration must not change its meaning
when the model code changes later.
"""

from fnmatch import fnmatchcase

from django.db import migrations


def fill(apps, schema_editor):
    Host = apps.get_model("inventory", "Host")
    HostLabels = apps.get_model("inventory", "HostLabels")
    LabelRule = apps.get_model("inventory", "LabelRule")
    rules = list(LabelRule.objects.all())
    hosts = []
    for host in Host.objects.order_by("pk"):
        labels = {r.key: r.value for r in rules if fnmatchcase(str(getattr(host, r.fact) or ""), r.pattern)}
        labels.update(host.agent_labels or {})
        labels.update(host.labels or {})
        host.effective_labels = labels
        hosts.append(host)
    Host.objects.bulk_update(hosts, ["effective_labels"], batch_size=500)
    # The labels are known as they are now only; before, the earliest known labels stand (see inventory.labels).
    # A host that has history already (the migration run again after going back to 0003) keeps it.
    known = set(HostLabels.objects.values_list("host_id", flat=True))
    HostLabels.objects.bulk_create(
        [HostLabels(host=h, labels=h.effective_labels, valid_from=h.first_seen_at) for h in hosts if h.pk not in known],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_labels_history_standing")]

    # Going back past 0003 drops the field and the table, so the reverse of this one has nothing to undo.
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
