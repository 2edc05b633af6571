"""The report request form of /reports/; the service holds the rules (shared with the API) and names the wrong field."""

from __future__ import annotations

from typing import Any

from django import forms

from compliance.reports.choices import ReportKind
from frameworks.models import Framework

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STOPPED_CHOICES = [("", "listed, not counted (default)"), ("true", "counted")]


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices)
    framework = forms.ChoiceField(required=False, help_text="For a framework assessment.")
    scope = forms.CharField(required=False, max_length=500, help_text="Label selector, e.g. pci=cde; empty: every host.")
    host = forms.CharField(required=False, max_length=255, help_text="Hardening of one host: its name or id.")
    as_of = forms.DateField(required=False, widget=_DATE, help_text="The end of that day (UTC); empty: now.")
    period_start = forms.DateField(required=False, widget=_DATE)
    period_end = forms.DateField(required=False, widget=_DATE)
    include_stopped = forms.ChoiceField(required=False, choices=STOPPED_CHOICES, label="Stopped containers")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The catalogs in force first; a superseded one (PCI DSS 4.0) stays on offer, named so, for an assessment
        # still made against it.
        in_force, superseded = Framework.objects.in_force(), Framework.objects.superseded()
        self.fields["framework"].choices = [("", "—")] + [
            (f.slug, f"{f.name} {f.version}") for f in in_force.order_by("name")] + [
            (f.slug, f"{f.name} {f.version} (superseded)") for f in superseded.order_by("name")]

    def request_params(self) -> dict[str, Any]:
        """The parameters that apply to the chosen kind (the form shows every field; a register has no framework)."""
        data = dict(self.cleaned_data)
        kind = data["kind"]
        if kind != ReportKind.FRAMEWORK:
            data.pop("framework", None)
        if kind != ReportKind.HARDENING:
            data.pop("host", None)
        data["include_stopped"] = True if data.get("include_stopped") == "true" else None
        return {key: value for key, value in data.items() if value not in ("", None)}
