"""Admin for the inventory: enrol and revoke agents, label hosts, label rules; snapshots are read-only evidence."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from audit.admin import AuditedModelAdmin
from audit.choices import AuditAction
from audit.services import created, record
from inventory.models import AgentToken, Host, LabelRule, Snapshot, hash_token


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


@admin.register(Host)
class HostAdmin(AuditedModelAdmin):
    list_display = ["hostname", "machine_id", "os_name", "docker_version", "last_collected_at", "labels"]
    search_fields = ["hostname", "machine_id"]
    fields = ["hostname", "machine_id", "labels", "agent_labels", "os_name", "kernel", "arch", "docker_version",
              "first_seen_at", "last_collected_at", "last_snapshot", "last_agent"]
    readonly_fields = [f for f in fields if f != "labels"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LabelRule)
class LabelRuleAdmin(AuditedModelAdmin):
    list_display = ["key", "value", "fact", "pattern"]


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
