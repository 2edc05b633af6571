"""A host's effective labels, stored on Host.effective_labels, with their history (HostLabels) and read as of a moment.

Effective labels are rule labels (LabelRule), overridden by the agent's, overridden by the admin's
(models.effective_labels). Every change of one of those inputs goes through here in the transaction that makes it:
an admin's labels (services.set_host_labels, the host admin), the agent's labels and the host facts rules match on
(ingest), and label rules (apply_label_rules, from the label rule admin). So Host.effective_labels is always current
and each change has a HostLabels row from the moment the server learned it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from inventory.models import Host, HostLabels, LabelRule, effective_labels

# The host fields effective labels depend on: the facts rules match on, and the agent's and the admin's labels.
INPUT_FIELDS = (*LabelRule.Fact.values, "labels", "agent_labels")


def relabel_host(host: Host, rules: list[LabelRule] | None = None, *, now: datetime | None = None,
                 first: bool = False) -> bool:
    """Recompute `host.effective_labels` and record a change in the history; the caller saves the host.

    Returns True when the labels changed. `first` records a row even when nothing changed: a new host's first
    labels, which may be none.
    """
    labels = effective_labels(host, list(LabelRule.objects.all()) if rules is None else rules)
    if labels == host.effective_labels and not first:
        return False
    host.effective_labels = labels
    HostLabels.objects.create(host=host, labels=labels, valid_from=now or timezone.now())
    return True


def apply_label_rules(now: datetime | None = None) -> int:
    """Recompute the effective labels of every host, as after a label rule was created, changed or deleted.

    Returns how many hosts' labels changed. The hosts are locked while it runs, so an ingest or an admin's change
    of the same host waits and then builds on the result instead of being overwritten by it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rules = list(LabelRule.objects.all())
        hosts = Host.objects.select_for_update().order_by("pk").only("pk", "effective_labels", *INPUT_FIELDS)
        changed = []
        for host in hosts:
            labels = effective_labels(host, rules)
            if labels != host.effective_labels:
                host.effective_labels = labels
                changed.append(host)
        Host.objects.bulk_update(changed, ["effective_labels"], batch_size=500)
        HostLabels.objects.bulk_create(
            [HostLabels(host=host, labels=host.effective_labels, valid_from=now) for host in changed], batch_size=1000
        )
    return len(changed)


def labels_at(at: datetime | None = None) -> dict[int, dict[str, str]]:
    """Host id -> the host's effective labels at `at` (None: now, from Host.effective_labels), in one query.

    At a past moment a host has the labels of its latest history row from at or before `at`. Before its first row
    (a host first seen later, or history that starts with the migration that introduced it) the host has its
    earliest known labels: the best account there is, and the labels it had when it was first seen. A host with no
    history at all has its current labels.
    """
    if at is None:
        return dict(Host.objects.order_by().values_list("id", "effective_labels"))
    history = HostLabels.objects.filter(host=OuterRef("pk"))
    then = history.filter(valid_from__lte=at).order_by("-valid_from", "-id").values("labels")[:1]
    earliest = history.order_by("valid_from", "id").values("labels")[:1]
    rows = (
        Host.objects.order_by()
        .annotate(then=Subquery(then), earliest=Subquery(earliest))
        .values_list("id", "then", "earliest", "effective_labels")
    )
    result: dict[int, dict[str, str]] = {}
    for host_id, labels_then, labels_earliest, labels_now in rows:
        for labels in (labels_then, labels_earliest, labels_now):
            if labels is not None:
                result[host_id] = labels
                break
    return result
