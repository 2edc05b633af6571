"""The estate lists' FilterSets: the inventory's filters plus what only the compliance domain knows, which CIS
recommendation fails on a container or an image after the judge. Each drives its page, its export and its API
(compliance/hosts/api.py), so the three select the same rows."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from compliance.choices import TargetKind
from compliance.engine import CHECKS, Scope
from compliance.hosts.services import estate_hosts, judged_results
from compliance.models import Result
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge
from compliance.posture.services import ScopedHost
from inventory.filters import ContainerFilterSet, ImageFilterSet

FAILING_HELP = (
    "A CIS recommendation id (e.g. 5.5) that fails on the {kind} after approved exceptions: an excepted failure "
    "does not count."
)


def _controls(scope: Scope) -> list[tuple[str, str]]:
    return [(check.control, f"{check.control} {check.title}") for check in CHECKS if check.scope is scope]


class _FailingFilterMixin:
    """`failing=<control>`: rows whose target has a current result of that control that fails after the judge."""

    target_kind: str = ""

    @cached_property
    def judge(self) -> Judge:
        # Stopped containers are listed, so their failures count here whatever posture counts.
        return Judge.at(include_stopped=True)

    @cached_property
    def hosts(self) -> dict[int, ScopedHost]:
        return estate_hosts()

    def filter_failing(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value:
            return queryset
        id_field = "container_id" if self.target_kind == TargetKind.CONTAINER else "image_id"
        # Each listed row is of a standing snapshot already, so the results are matched to it directly; the judge's
        # decision is read over the standing snapshots (where it may read a target-scoped control's failures).
        rows = Result.objects.filter(
            is_current=True, target_kind=self.target_kind, snapshot_id=OuterRef("snapshot_id"), target_id=OuterRef(id_field)
        )
        return queryset.filter(Exists(judged_results(self.judge, value, self.hosts, PostureStatus.FAIL, rows=rows)))


class EstateContainerFilterSet(_FailingFilterMixin, ContainerFilterSet):
    target_kind = TargetKind.CONTAINER
    failing = django_filters.ChoiceFilter(
        method="filter_failing", choices=_controls(Scope.CONTAINER), help_text=FAILING_HELP.format(kind="container"),
    )

    class Meta(ContainerFilterSet.Meta):
        pass


class EstateImageFilterSet(_FailingFilterMixin, ImageFilterSet):
    target_kind = TargetKind.IMAGE
    failing = django_filters.ChoiceFilter(
        method="filter_failing", choices=_controls(Scope.IMAGE), help_text=FAILING_HELP.format(kind="image"),
    )

    class Meta(ImageFilterSet.Meta):
        pass


class ResultStatusForm(forms.Form):
    """The status filter of a table of results (host page, snapshot page, recommendation page)."""

    status = forms.ChoiceField(choices=[("", "Any status"), *PostureStatus.choices], required=False)

    def status_or_error(self) -> tuple[str, str]:
        """(the status asked for or "", the reason it cannot be read or "")."""
        if self.is_valid():
            return self.cleaned_data["status"], ""
        return "", f"status: {' '.join(self.errors.get('status', []))}"
