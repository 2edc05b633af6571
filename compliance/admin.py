"""Admin for the compliance domain: the site policy (validated by the engine's own reader); results are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from audit.admin import AuditedModelAdmin
from compliance.engine import Policy, PolicyError
from compliance.models import Evaluation, SitePolicy


class SitePolicyForm(forms.ModelForm):
    class Meta:
        model = SitePolicy
        fields = ["name", "data"]
        help_texts = {"data": "Fields: " + ", ".join(Policy.__dataclass_fields__) + ". Unset fields keep those checks manual."}

    def clean_data(self) -> dict[str, Any]:
        data = self.cleaned_data["data"] or {}
        try:
            Policy.from_dict(data)
        except PolicyError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(SitePolicy)
class SitePolicyAdmin(AuditedModelAdmin):
    form = SitePolicyForm
    list_display = ["name", "updated_at"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["snapshot", "engine_version", "status", "is_current", "started_at", "counts"]
    list_filter = ["status", "is_current", "engine_version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
