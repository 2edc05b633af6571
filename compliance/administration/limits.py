"""What an account may read: `limits_for(user)` for the posture pages, the API and reports; expiry for the gates.

A limited auditor reads only the frameworks listed (others answer 403) and only the hosts of their label scope: the
scope they ask for is ANDed with theirs (the selector terms of both, combined).

The registers, the audit log and the reports show a limited auditor only the rows about their frameworks and hosts
(`Visibility`, the rule written out in docs/dashboard.md): `visible_exceptions`, `visible_evidence`,
`visible_reports` and `visible_events` narrow a queryset, `report_allowed` decides one report (request or download).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from audit.models import AuditEvent
from common.scope import Selector, parse_selector
from compliance.engine import BENCHMARK
from compliance.evidence.models import Evidence
from compliance.exceptions.choices import ScopeKind
from compliance.exceptions.models import RiskAcceptance
from compliance.reports.choices import ReportKind
from compliance.reports.models import Report
from frameworks.models import Mapping
from inventory.models import Host, Snapshot


class FrameworkNotAllowed(Exception):
    """The account's limits do not include this framework."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"This account may read only some frameworks, not {slug!r}.")
        self.slug = slug


@dataclass(frozen=True)
class AccessLimits:
    """frameworks: the slugs allowed, None for all; scope: a label selector every scope is ANDed with ("" for all)."""

    frameworks: frozenset[str] | None = None
    scope: str = ""

    @property
    def is_limited(self) -> bool:
        return self.frameworks is not None or bool(self.scope)

    def allows(self, slug: str) -> bool:
        return self.frameworks is None or slug in self.frameworks

    def check_framework(self, slug: str) -> None:
        """Raises FrameworkNotAllowed when `slug` is outside the limits."""
        if not self.allows(slug):
            raise FrameworkNotAllowed(slug)

    def scope_with(self, requested: str) -> str:
        """The requested selector ANDed with the account's; raises common.scope.SelectorError on a bad request.

        A term both name is kept once; `env=prod` asked by an account limited to `env=dev` selects nothing, as an AND
        of the two must.
        """
        terms = list(parse_selector(self.scope).terms)
        for term in parse_selector(requested).terms:
            if term not in terms:
                terms.append(term)
        return str(Selector(tuple(terms)))


NO_LIMITS = AccessLimits()


def account_limit(user: Any) -> Any | None:
    """The user's AccountLimit row or None; read once per user object (select_related by the gates)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    try:
        return user.account_limit
    except ObjectDoesNotExist:
        return None


def limits_for(user: Any) -> AccessLimits:
    """What `user` may read. Superusers and users without limits read everything."""
    limit = account_limit(user)
    if limit is None or getattr(user, "is_superuser", False):
        return NO_LIMITS
    frameworks = frozenset(limit.frameworks) if limit.frameworks else None
    return AccessLimits(frameworks=frameworks, scope=limit.scope)


def expired_at(user: Any, at: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the user's access ended, if it has; None while it is valid (or has no end)."""
    limit = account_limit(user)
    if limit is not None and limit.is_expired(at):
        return limit.expires_at
    return None


@dataclass(frozen=True)
class Visibility:
    """The rows a limited account reads, decided once per request.

    hosts: ids of the hosts whose effective labels match the account's scope now (None: every host);
    host_labels: the distinct label sets of those hosts, to decide a label-selector scope;
    controls: the CIS Docker recommendations of the account's frameworks, in them or mapped to them by a current
    crosswalk (None: every recommendation); frameworks: the slugs allowed (None: all).
    """

    limits: AccessLimits
    hosts: frozenset[int] | None
    host_labels: tuple[dict[str, Any], ...]
    controls: frozenset[str] | None

    @classmethod
    def of(cls, limits: AccessLimits) -> Visibility:
        """Two queries at most: the hosts' labels when the account has a scope, the mappings when it has frameworks."""
        hosts: frozenset[int] | None = None
        labels: list[dict[str, Any]] = []
        if limits.scope:
            selector = parse_selector(limits.scope)
            ids = set()
            for host_id, host_labels in Host.objects.values_list("id", "effective_labels"):
                if selector.matches(host_labels):
                    ids.add(host_id)
                    if host_labels not in labels:
                        labels.append(host_labels or {})
            hosts = frozenset(ids)
        controls: frozenset[str] | None = None
        if limits.frameworks is not None and BENCHMARK not in limits.frameworks:
            controls = frozenset(
                Mapping.objects.filter(
                    crosswalk__is_current=True, source__framework__slug=BENCHMARK, source__framework__is_current=True,
                    target__framework__slug__in=limits.frameworks, target__framework__is_current=True,
                ).values_list("source__ref_id", flat=True).distinct()
            )
        return cls(limits, hosts, tuple(labels), controls)

    def selects_a_host(self, selector_text: str) -> bool:
        """Whether a label selector selects at least one host of the account's scope (now)."""
        if self.hosts is None:
            return True
        try:
            selector = parse_selector(selector_text)
        except ValueError:
            return False
        return any(selector.matches(labels) for labels in self.host_labels)

    def within_scope(self, selector_text: str) -> bool:
        """Whether a scope selects only hosts of the account's scope, whatever their labels: it has every term of it."""
        try:
            terms = set(parse_selector(selector_text).terms)
        except ValueError:
            return False
        return set(parse_selector(self.limits.scope).terms) <= terms

    # Exceptions: about a recommendation of the account's frameworks, on a scope that takes in one of its hosts.

    def exception_condition(self) -> Q:
        condition = Q() if self.controls is None else Q(control__in=sorted(self.controls))
        if self.hosts is None:
            return condition
        selected = [
            pk for pk, text in RiskAcceptance.objects.filter(scope_kind=ScopeKind.SELECTOR)
            .values_list("pk", "scope_selector") if self.selects_a_host(text)
        ]
        # Container and image scopes are on every host, so on the account's hosts too.
        return condition & (
            Q(scope_kind__in=[ScopeKind.ALL, ScopeKind.CONTAINER, ScopeKind.IMAGE])
            | Q(scope_kind=ScopeKind.HOST, scope_host_id__in=sorted(self.hosts))
            | Q(pk__in=selected)
        )

    # Evidence: attests a requirement of the account's frameworks (or a recommendation mapped to one), for a scope
    # that takes in one of its hosts.

    def evidence_condition(self) -> Q:
        condition = Q()
        if self.limits.frameworks is not None:
            about = Q(requirements__framework__slug__in=sorted(self.limits.frameworks))
            if self.controls:
                about |= Q(requirements__framework__slug=BENCHMARK, requirements__ref_id__in=sorted(self.controls))
                # Evidence on a requirement of another framework attests the recommendations mapped to it.
                about |= Q(requirements__mappings_as_target__crosswalk__is_current=True,
                           requirements__mappings_as_target__source__ref_id__in=sorted(self.controls))
            condition &= Q(pk__in=Evidence.objects.filter(about).values("pk"))
        if self.hosts is None:
            return condition
        selected = [
            pk for pk, text in Evidence.objects.filter(scope_host__isnull=True).exclude(scope_selector="")
            .values_list("pk", "scope_selector") if self.selects_a_host(text)
        ]
        return condition & (
            Q(scope_host__isnull=True, scope_selector="") | Q(scope_host_id__in=sorted(self.hosts)) | Q(pk__in=selected)
        )

    # Reports: a framework assessment of an allowed framework over a scope within the account's; a hardening report
    # (CIS Docker allowed) of one of its hosts or over a scope within its; a register only without limits (it lists
    # every exception or evidence).

    def report_condition(self) -> Q:
        allowed = self.limits.frameworks
        framework_ok = Q() if allowed is None else Q(framework_slug__in=sorted(allowed))
        scoped = [pk for pk, text in Report.objects.filter(host__isnull=True).values_list("pk", "scope")
                  if self.within_scope(text)] if self.limits.scope else None
        scope_ok = Q() if scoped is None else Q(host__isnull=True, pk__in=scoped)
        host_ok = Q(host__isnull=False) if self.hosts is None else Q(host_id__in=sorted(self.hosts))
        return (
            (Q(kind=ReportKind.FRAMEWORK) & framework_ok & scope_ok)
            | (Q(kind=ReportKind.HARDENING) & framework_ok & (scope_ok & Q(host__isnull=True) | host_ok))
        )

    def allows_report(self, kind: str, framework_slug: str, scope: str, host_id: int | None) -> bool:
        """The same rule for one report, before it exists (a request) or without reading the others."""
        if kind not in (ReportKind.FRAMEWORK, ReportKind.HARDENING):
            return False
        if not self.limits.allows(framework_slug or BENCHMARK):
            return False
        if host_id is not None:
            return kind == ReportKind.HARDENING and (self.hosts is None or host_id in self.hosts)
        return self.within_scope(scope)

    # The audit log: events about an exception, evidence or report the account reads, or about one of its hosts or
    # their snapshots. Nothing else (accounts, agents, the site policy, catalogs, logins).

    def event_condition(self) -> Q:
        def about(model: type, ids: QuerySet[Any]) -> Q:
            return Q(content_type=ContentType.objects.get_for_model(model),
                     object_id__in=ids.annotate(key=Cast("pk", CharField())).values("key"))

        hosts = Host.objects.all() if self.hosts is None else Host.objects.filter(pk__in=sorted(self.hosts))
        return (
            about(RiskAcceptance, RiskAcceptance.objects.filter(self.exception_condition()))
            | about(Evidence, Evidence.objects.filter(self.evidence_condition()))
            | about(Report, Report.objects.filter(self.report_condition()))
            | about(Host, hosts)
            | about(Snapshot, Snapshot.objects.filter(host__in=hosts))
        )


def readable_host_ids(user: Any) -> frozenset[int] | None:
    """Ids of the hosts the account reads (its label scope, now), or None for every host (one query when scoped)."""
    limits = limits_for(user)
    return Visibility.of(AccessLimits(scope=limits.scope)).hosts if limits.scope else None


def visibility_for(user: Any) -> Visibility | None:
    """The account's Visibility, or None when it reads everything (no framework or scope limit)."""
    limits = limits_for(user)
    return Visibility.of(limits) if limits.is_limited else None


def visible_exceptions(queryset: QuerySet[RiskAcceptance], user: Any) -> QuerySet[RiskAcceptance]:
    visibility = visibility_for(user)
    return queryset if visibility is None else queryset.filter(visibility.exception_condition())


def visible_evidence(queryset: QuerySet[Evidence], user: Any) -> QuerySet[Evidence]:
    visibility = visibility_for(user)
    return queryset if visibility is None else queryset.filter(visibility.evidence_condition())


def visible_reports(queryset: QuerySet[Report], user: Any) -> QuerySet[Report]:
    visibility = visibility_for(user)
    return queryset if visibility is None else queryset.filter(visibility.report_condition())


def visible_events(queryset: QuerySet[AuditEvent], user: Any) -> QuerySet[AuditEvent]:
    visibility = visibility_for(user)
    return queryset if visibility is None else queryset.filter(visibility.event_condition())


def report_allowed(user: Any, kind: str, framework_slug: str, scope: str, host_id: int | None) -> bool:
    """Whether the account may request (or read) a report of this kind, framework, scope and host."""
    visibility = visibility_for(user)
    return visibility is None or visibility.allows_report(kind, framework_slug, scope, host_id)
