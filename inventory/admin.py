"""Admin for the inventory: enrol and revoke agents, label hosts, label rules; snapshots are read-only evidence."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from audit.admin import AuditedModelAdmin
from audit.choices import AuditAction
from audit.services import created, record
from inventory.labels import apply_label_rules, relabel_host
from inventory.models import AgentToken, Host, LabelRule, Snapshot, hash_token
from inventory.services import parse_labels
from inventory.snapshot_format import SnapshotRejected


@admin.register(AgentToken)
class AgentTokenAdmin(AuditedModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    fields = ["name", *readonly_fields]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: AgentToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A token made in the admin is shown once, in the confirmation message, like create_agent_token.
        token, raw = AgentToken.issue(obj.name, created_by=request.user)
        obj.pk, obj.token_hash, obj.prefix = token.pk, hash_token(raw), token.prefix
        obj._state.adding = False
        record(AuditAction.CREATE, token, request=request, changes=created({"name": token.name, "prefix": token.prefix}))
        messages.warning(request, f"Agent token for {obj.name} (shown once, store it now): {raw}")

    @admin.action(description="Revoke the selected agent tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset:
            if token.is_active:
                token.revoke()
                record(AuditAction.REVOKE, token, request=request, changes={"revoked_at": [None, token.revoked_at.isoformat()]})
        messages.success(request, f"Revoked {queryset.count()} token(s).")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HostAdminForm(forms.ModelForm):
    class Meta:
        model = Host
        fields = ["labels", "agent_token"]

    def clean_labels(self) -> dict[str, str]:
        # The same rule as the host page and the API (and agent.labels), not any JSON.
        try:
            return parse_labels(self.cleaned_data.get("labels") or {})
        except SnapshotRejected as exc:
            raise forms.ValidationError(f"{exc.path.removeprefix('labels.')}: {exc.reason}") from None


@admin.register(Host)
class HostAdmin(AuditedModelAdmin):
    form = HostAdminForm
    list_display = ["hostname", "machine_id", "os_name", "docker_version", "last_collected_at", "labels", "effective_labels"]
    search_fields = ["hostname", "machine_id"]
    fields = ["hostname", "machine_id", "labels", "agent_labels", "effective_labels", "os_name", "kernel", "arch",
              "docker_version", "first_seen_at", "last_collected_at", "last_snapshot", "last_agent", "agent_token"]
    # An admin edits the labels, and clears (or sets) the token the host is bound to, to enrol it again.
    readonly_fields = [f for f in fields if f not in ("labels", "agent_token")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Host, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # After the audited save: the trail records the admin's change, not the labels derived from it.
        if relabel_host(obj):
            obj.save(update_fields=["effective_labels"])


@admin.register(LabelRule)
class LabelRuleAdmin(AuditedModelAdmin):
    """Label rules; every change relabels the hosts (apply_label_rules), in the admin's transaction."""

    list_display = ["key", "value", "fact", "pattern"]

    def save_model(self, request: HttpRequest, obj: LabelRule, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        apply_label_rules()

    def delete_model(self, request: HttpRequest, obj: LabelRule) -> None:
        super().delete_model(request, obj)
        apply_label_rules()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # Each rule deleted and audited as AuditedModelAdmin does it, the hosts relabelled once for the lot.
        for rule in queryset:
            AuditedModelAdmin.delete_model(self, request, rule)
        apply_label_rules()


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["host", "collected_at", "received_at", "container_count", "evaluation_status", "sha256"]
    list_filter = ["evaluation_status"]
    exclude = ["content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
