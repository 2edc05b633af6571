"""Forms of the evidence pages; the model's clean() and the upload checks hold the rules, shared with the API."""

from __future__ import annotations

from typing import Any

from django import forms

from compliance.evidence.choices import EvidenceKind
from compliance.evidence.models import DESCRIPTION_MAX_LENGTH
from frameworks.models import Requirement
from inventory.models import Host

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RequirementKeysField(forms.CharField):
    """Requirements typed as framework-slug:ref_id keys, separated by commas or spaces."""

    def clean(self, value: Any) -> list[Requirement]:
        text = super().clean(value)
        keys = [key for key in text.replace(",", " ").split() if key]
        found: list[Requirement] = []
        missing: list[str] = []
        for key in keys:
            slug, _, ref_id = key.partition(":")
            requirement = Requirement.objects.filter(framework__slug=slug, framework__is_current=True, ref_id=ref_id).first()
            if requirement is None:
                missing.append(key)
            else:
                found.append(requirement)
        if missing:
            raise forms.ValidationError(f"Not in the current catalogs: {', '.join(missing)} (use e.g. cis-docker-1.6.0:5.5).")
        return found


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a note, the note.",
    )
    file = forms.FileField(required=False, help_text="PDF, PNG, JPEG, text, CSV, JSON or an office document.")
    url = forms.URLField(required=False, max_length=1000, assume_scheme="https")
    requirements = RequirementKeysField(help_text="e.g. cis-docker-1.6.0:5.5 pci-dss-4.0:2.2.1")
    scope_selector = forms.CharField(required=False, max_length=500, help_text="Label selector; empty = all hosts.")
    scope_host = forms.ModelChoiceField(queryset=Host.objects.order_by("hostname", "id"), required=False)
    collected_at = forms.DateTimeField(widget=_DATETIME, help_text="UTC; when it was collected, not today's upload.")
    valid_until = forms.DateTimeField(widget=_DATETIME, help_text="UTC; it stops counting then.")


PREFILLED_FIELDS = {"requirements": 2000, "scope_selector": 500, "scope_host": 20, "kind": 8, "title": 200}


def prefill(params: Any) -> dict[str, str]:
    """Initial values of the upload form from a link's query (GET), each cut to a sensible length."""
    return {name: params[name][:limit] for name, limit in PREFILLED_FIELDS.items() if params.get(name)}
