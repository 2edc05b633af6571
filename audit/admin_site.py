"""The admin site: every add, change and deletion made through the Django admin is recorded in the audit trail.

One place for all of them: AuditedAdminSite.register gives every ModelAdmin registered on the site (ours, Django's
Group admin, DRF's token admin, django-axes' admins) the AdminActionsAudited mixin, which records an audit event
wherever the admin writes its LogEntry (log_addition, log_change, log_deletions), with the user, the address, the
object and the fields changed ({field: [old, new]}). A ModelAdmin that records a richer event itself
(audit.admin.AuditedModelAdmin and the user admin set `audits_itself`) is not recorded twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from audit.choices import AuditAction
from audit.services import created, diff, field_values, record

# Secrets are never copied into the trail: a field with one of these names is recorded as set, changed or empty.
SECRET_FIELDS = frozenset({"password", "key", "token", "token_hash", "secret", "api_key"})
_SET, _EMPTY = "(set)", "(empty)"


def _record(action: str, obj: models.Model, request: HttpRequest, changes: dict[str, list[Any]]) -> None:
    if obj._meta.pk.name in SECRET_FIELDS:
        # A model keyed by its secret (DRF's Token: the key is the primary key and its str()): the trail names the
        # row by a digest, so the event still identifies it without holding the secret.
        digest = "sha256:" + hashlib.sha256(str(obj.pk).encode()).hexdigest()[:16]
        record(action, obj, request=request, changes=changes, object_id=digest,
               object_repr=f"{obj._meta.verbose_name} {digest}")
    else:
        record(action, obj, request=request, changes=changes)


class AdminActionsAudited:
    """Mixin every ModelAdmin of AuditedAdminSite gets, first in its MRO.

    A ModelAdmin class with `audits_itself = True` records its own events (read with getattr: an attribute here would
    shadow the ModelAdmin's, the mixin coming first).
    """

    def _audited_here(self) -> bool:
        return not getattr(self, "audits_itself", False)

    def audit_values(self, obj: models.Model) -> dict[str, Any]:
        """The JSON-safe values recorded for `obj`: concrete and many-to-many fields, secrets masked."""
        names = [
            f.name for f in obj._meta.concrete_fields if not f.primary_key and not isinstance(f, models.BinaryField)
        ] + [f.name for f in obj._meta.many_to_many]
        values = field_values(obj, names)
        for name in SECRET_FIELDS & set(values):
            values[name] = _SET if values[name] else _EMPTY
        return values

    def _secret_changes(self, obj: models.Model, before_secrets: dict[str, Any], changes: dict[str, list[Any]]) -> None:
        for name, old in before_secrets.items():
            new = getattr(obj, name, None)
            if old != new and name not in changes:
                changes[name] = [_SET if old else _EMPTY, "(changed)" if new else _EMPTY]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if self._audited_here() and change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            if stored is not None:
                obj._admin_audit_before = self.audit_values(stored)
                obj._admin_audit_secrets = {n: getattr(stored, n) for n in SECRET_FIELDS if hasattr(stored, n)}
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        if self._audited_here():
            _record(AuditAction.CREATE, obj, request, created(self.audit_values(obj)))
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        if self._audited_here():
            before = getattr(obj, "_admin_audit_before", None)
            changes = diff(before, self.audit_values(obj)) if before is not None else {}
            self._secret_changes(obj, getattr(obj, "_admin_audit_secrets", {}), changes)
            if not changes:
                # A change the admin logged without a stored "before" (a custom view): its own message says what.
                changes = {"admin": [None, entry.get_change_message() if entry is not None else str(message)]}
            _record(AuditAction.CHANGE, obj, request, changes)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # Called before the rows are deleted, one event per object (Django bulk-creates the LogEntry rows).
        if self._audited_here():
            for obj in queryset:
                values = self.audit_values(obj)
                _record(AuditAction.DELETE, obj, request, {k: [v, None] for k, v in values.items()})
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class AuditedAdminSite(admin.AdminSite):
    """The default admin site (audit.admin_apps.AuditedAdminConfig); registering a ModelAdmin makes it audited."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AdminActionsAudited):
            admin_class = type(
                admin_class.__name__,
                (AdminActionsAudited, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)
