"""FilterSets: one per list, driving the API query parameters, the HTML list filters and the list's export."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact
from django.utils import timezone

from common.scope import Selector, SelectorError, parse_selector
from inventory.models import Container, Host, Image, Snapshot
from inventory.snapshot_format import label_problem

LABEL_HELP = (
    "A label selector over the host's effective labels (rules, agent, admin): terms ANDed by commas, each key=value, "
    "key!=value, key (has the key) or !key (lacks it), e.g. env=prod,pci=cde."
)


def _invalid(reason: str) -> ValidationError:
    # The reason quotes what was sent, which may hold a "%": django-filter formats messages with their params.
    return ValidationError("%(reason)s", params={"reason": reason})


def validate_selector(value: str) -> None:
    """A label selector whose every key and value follows the rule labels themselves follow (label_problem)."""
    try:
        selector = parse_selector(value)
    except SelectorError as exc:
        raise _invalid(str(exc)) from None
    for term in selector.terms:
        if (problem := label_problem(term.key, term.value)) is not None:
            raise _invalid(f"{str(Selector((term,)))[:80]!r} can match no label: {problem}")


def selector_q(selector: Selector, field: str = "effective_labels") -> Q:
    """The SQL condition of a label selector on a labels JSON field (`host__effective_labels` from another model).

    The same meaning as Selector.matches, so the host list, the API and posture scopes select the same hosts.
    """
    condition = Q()
    for term in selector.terms:
        has = Q(**{f"{field}__has_key": term.key})
        if term.op == "exists":
            condition &= has
        elif term.op == "absent":
            condition &= ~has
        else:
            # An explicit key transform: `<field>__<key>` would read `__` in a key (a valid label key) as a path.
            equal = has & Q(Exact(KeyTextTransform(term.key, field), term.value))
            condition &= equal if term.op == "=" else ~equal
    return condition


def stale_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """Hosts whose last snapshot was collected before this moment are stale (settings.PLIMSOLL_STALE_HOURS)."""
    return (now or timezone.now()) - datetime.timedelta(hours=settings.PLIMSOLL_STALE_HOURS)


def stale_q(now: datetime.datetime | None = None, prefix: str = "") -> Q:
    """Hosts with no snapshot collected within PLIMSOLL_STALE_HOURS (or none at all)."""
    field = f"{prefix}last_collected_at"
    return Q(**{f"{field}__lt": stale_cutoff(now)}) | Q(**{f"{field}__isnull": True})


class ValidatedFilterSet(django_filters.FilterSet):
    """A filter that cannot be read selects nothing rather than everything (the API answers 400 before this; pages
    show the form's errors)."""

    @property
    def qs(self) -> QuerySet[Any]:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs


class HostFilterSet(ValidatedFilterSet):
    hostname = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the hostname.")
    label = django_filters.CharFilter(method="filter_label", validators=[validate_selector], help_text=LABEL_HELP)
    os = django_filters.CharFilter(field_name="os_name", lookup_expr="icontains", help_text="Part of the OS name.")
    stale = django_filters.BooleanFilter(
        method="filter_stale",
        help_text="true: hosts with no snapshot collected for longer than PLIMSOLL_STALE_HOURS; false: the others.",
    )

    class Meta:
        model = Host
        fields = ["hostname", "machine_id", "arch", "docker_version"]

    def filter_label(self, queryset: QuerySet[Host], name: str, value: str) -> QuerySet[Host]:
        return queryset.filter(selector_q(parse_selector(value)))

    def filter_stale(self, queryset: QuerySet[Host], name: str, value: bool | None) -> QuerySet[Host]:
        if value is None:
            return queryset
        return queryset.filter(stale_q()) if value else queryset.exclude(stale_q())


class SnapshotFilterSet(django_filters.FilterSet):
    collected_after = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="gte")
    collected_before = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="lt")
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only the snapshot that stands for each host: its latest judged one."
    )

    class Meta:
        model = Snapshot
        fields = ["host", "sha256", "evaluation_status", "schema"]

    def filter_latest(self, queryset: QuerySet[Snapshot], name: str, value: Any) -> QuerySet[Snapshot]:
        if not value:
            return queryset
        return queryset.standing()


class _OnHostFilterSet(ValidatedFilterSet):
    """Filters on the host a row belongs to, and on the snapshot that stands for it."""

    hostname = django_filters.CharFilter(field_name="host__hostname", lookup_expr="icontains", help_text="Part of the hostname.")
    label = django_filters.CharFilter(method="filter_label", validators=[validate_selector], help_text=LABEL_HELP)
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only rows of the snapshot that stands for each host (its latest judged one)."
    )

    def filter_label(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(selector_q(parse_selector(value), "host__effective_labels"))

    def filter_latest(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if not value:
            return queryset
        return queryset.filter(snapshot__in=Snapshot.objects.standing().values("pk"))


class ContainerFilterSet(_OnHostFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    image = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the image the container runs.")

    class Meta:
        model = Container
        fields = ["host", "snapshot", "container_id", "state", "running", "image_id"]


class ImageFilterSet(_OnHostFilterSet):
    image = django_filters.CharFilter(method="filter_image", help_text="Part of a tag (e.g. nginx) or of the image id.")
    used = django_filters.BooleanFilter(
        method="filter_used", help_text="true: a container of the same snapshot was created from it; false: none was."
    )

    class Meta:
        model = Image
        fields = ["host", "snapshot", "image_id"]

    def filter_image(self, queryset: QuerySet[Image], name: str, value: str) -> QuerySet[Image]:
        # Tags are a JSON list; its text form holds every tag, so a substring of the text is a substring of a tag
        # (or of the JSON punctuation, which a search term for an image name does not contain).
        return queryset.filter(Q(tags__icontains=value) | Q(image_id__icontains=value))

    def filter_used(self, queryset: QuerySet[Image], name: str, value: bool | None) -> QuerySet[Image]:
        if value is None:
            return queryset
        used = Exists(Container.objects.filter(snapshot_id=OuterRef("snapshot_id"), image_id=OuterRef("image_id")))
        return queryset.filter(used) if value else queryset.exclude(used)
