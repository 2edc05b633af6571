"""Forms of the exception pages; the model's clean() holds the rules, so the API and the pages agree."""

from typing import Any

from django import forms

from compliance.exceptions.models import TEXT_MAX_LENGTH, RiskAcceptance
from compliance.exceptions.services import EDITABLE_FIELDS
from inventory.models import Host


class RiskAcceptanceForm(forms.ModelForm):
    scope_host = forms.ModelChoiceField(queryset=Host.objects.order_by("hostname", "id"), required=False)

    class Meta:
        model = RiskAcceptance
        fields = EDITABLE_FIELDS
        widgets = {
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "justification": forms.Textarea(attrs={"rows": 4}),
            "compensating_controls": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"expires_at": "UTC. Mandatory; at most PLIMSOLL_EXCEPTION_MAX_DAYS (365 by default) from today."}


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))


PREFILLED_FIELDS = ("control", "scope_kind", "scope_selector", "scope_host", "scope_container_pattern", "scope_image",
                    "risk_rating")


def prefill(params: Any) -> dict[str, str]:
    """Initial values of the request form from a link's query (GET): only the scope fields, each cut to its column."""
    initial = {}
    for name in PREFILLED_FIELDS:
        value = params.get(name)
        if value:
            initial[name] = value[:RiskAcceptance._meta.get_field(name).max_length or 500]
    return initial
