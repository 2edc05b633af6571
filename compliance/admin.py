"""Admin for the compliance domain: the site policy (validated by the engine's own reader); results are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from audit.admin import AuditedModelAdmin
from common.admin import ReadOnlyAdmin
from compliance.engine import Policy, PolicyError
from compliance.models import Evaluation, SitePolicy


class SitePolicyForm(forms.ModelForm):
    class Meta:
        model = SitePolicy
        fields = ["name", "data"]
        help_texts = {"data": "Fields: " + ", ".join(Policy.__dataclass_fields__) + ". Unset fields keep those checks manual. "
                              "Administration › Site policy edits the active policy as a form."}

    def clean_data(self) -> dict[str, Any]:
        data = self.cleaned_data["data"] or {}
        try:
            Policy.from_dict(data)
        except PolicyError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(SitePolicy)
class SitePolicyAdmin(AuditedModelAdmin):
    """Policies are stored by name; the one marked active applies. Activating one deactivates the other (audited)."""

    form = SitePolicyForm
    list_display = ["name", "is_active", "updated_at"]
    readonly_fields = ["is_active"]
    actions = ["make_active"]

    def save_model(self, request: HttpRequest, obj: SitePolicy, form: Any, change: bool) -> None:
        if not change:
            # A new policy applies only when none does: another is applied explicitly, with "Make active".
            obj.is_active = not SitePolicy.objects.filter(is_active=True).exists()
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            messages.info(request, f"{obj.name} is stored but does not apply: use \"Make active\" to apply it.")

    @admin.action(description="Make the selected policy the one that applies")
    def make_active(self, request: HttpRequest, queryset: Any) -> None:
        from compliance.administration.services import activate_policy

        if queryset.count() != 1:
            messages.error(request, "Select exactly one policy: only one applies.")
            return
        policy = activate_policy(queryset.get().pk, by=request.user, request=request)
        messages.success(request, f"{policy.name} now applies; re-judge stored snapshots from Administration › Site policy.")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    """Evaluations and their results are evidence: browsed here, never added, changed or deleted (nor bulk-deleted)."""

    list_display = ["snapshot", "engine_version", "status", "is_current", "started_at", "counts"]
    list_select_related = ["snapshot", "tally_set"]
    readonly_fields = ["policy", "counts"]
    list_filter = ["status", "is_current", "engine_version"]
