"""HTML pages: the framework list, a framework's requirement tree, and one requirement with its mappings."""

from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from common.roles import can_read
from frameworks.models import Framework, Mapping, Requirement


def reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """As ReaderRequiredMixin: anonymous visitors log in first; a user with no role gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_read(request.user):
            raise PermissionDenied("Your role does not allow this.")
        return view(request, *args, **kwargs)

    return wrapped


@reader_required
def framework_list(request: HttpRequest) -> HttpResponse:
    frameworks = Framework.objects.filter(is_current=True).annotate(
        requirement_count=Count("requirements"),
        assessable_count=Count("requirements", filter=Q(requirements__assessable=True)),
    )
    return render(request, "frameworks/framework_list.html", {"frameworks": frameworks})


@reader_required
def framework_detail(request: HttpRequest, slug: str) -> HttpResponse:
    framework = get_object_or_404(Framework, slug=slug, is_current=True)
    nodes = list(framework.requirements.all())
    mapped_from: dict[int, list[Mapping]] = defaultdict(list)
    for mapping in (
        Mapping.objects.filter(target__framework=framework, crosswalk__is_current=True)
        .select_related("source__framework")
        .order_by("source__order")
    ):
        mapped_from[mapping.target_id].append(mapping)
    mapped_to: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for source_id, name, count in (
        Mapping.objects.filter(source__framework=framework, crosswalk__is_current=True)
        .values_list("source_id", "target__framework__name")
        .annotate(count=Count("id"))
        .order_by("source_id", "target__framework__name")
    ):
        mapped_to[source_id].append((name, count))
    rows = [(node, mapped_from.get(node.pk, []), mapped_to.get(node.pk, [])) for node in nodes]
    return render(request, "frameworks/framework_detail.html", {"framework": framework, "rows": rows})


@reader_required
def requirement_detail(request: HttpRequest, slug: str, ref_id: str) -> HttpResponse:
    framework = get_object_or_404(Framework, slug=slug, is_current=True)
    requirement = get_object_or_404(Requirement.objects.select_related("parent"), framework=framework, ref_id=ref_id)
    outgoing: dict[Framework, list[Mapping]] = defaultdict(list)
    for mapping in (
        requirement.mappings_as_source.filter(crosswalk__is_current=True)
        .select_related("target__framework")
        .order_by("target__framework__name", "target__order")
    ):
        outgoing[mapping.target.framework].append(mapping)
    incoming = (
        requirement.mappings_as_target.filter(crosswalk__is_current=True)
        .select_related("source__framework")
        .order_by("source__order")
    )
    context = {
        "framework": framework,
        "requirement": requirement,
        "outgoing": dict(outgoing),
        "incoming": list(incoming),
        "children": requirement.children.all(),
    }
    return render(request, "frameworks/requirement_detail.html", context)
