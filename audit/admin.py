"""Admin: the audit trail is browsable and never editable; changes made in the admin are recorded in it."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin  # registers the default UserAdmin first, so it can be replaced
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse

from audit.choices import AuditAction
from audit.models import AuditEvent
from audit.services import created, diff, field_values, record


def keep_unchanged_times(obj: models.Model, stored: models.Model | None, form: Any) -> None:
    """Give each date-time field the form did not change its stored value back, to the microsecond.

    Admin widgets show and post times to the second (Django drops the microseconds of a form's initial times), so
    saving a form untouched wrote `date_joined` 09:30:15.123456 back as 09:30:15, and the trail recorded a
    `date_joined` change nobody made. A field the person did change (form.changed_data) keeps what they typed.
    """
    if stored is None or form is None:
        return
    changed = set(form.changed_data)
    for name in form.fields:
        if name in changed:
            continue
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.DateTimeField | models.TimeField):
            setattr(obj, field.attname, getattr(stored, field.attname))


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose adds, changes and deletions go to the audit trail, with the fields that changed.

    Every other ModelAdmin is audited by the site (audit/admin_site.py); this one records its own events, with the
    times kept to the microsecond, so the site does not record them again.
    """

    audits_itself = True

    def _fields(self, obj: models.Model) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if not f.primary_key and not isinstance(f, models.BinaryField)]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if change and obj.pk else None
        before = field_values(stored, self._fields(obj)) if stored is not None else None
        keep_unchanged_times(obj, stored, form)
        super().save_model(request, obj, form, change)
        after = field_values(obj, self._fields(obj))
        if before is None:
            record(AuditAction.CREATE, obj, request=request, changes=created(after))
        elif changes := diff(before, after):
            record(AuditAction.CHANGE, obj, request=request, changes=changes)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        values = field_values(obj, self._fields(obj))
        record(AuditAction.DELETE, obj, request=request, changes={k: [v, None] for k, v in values.items()})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "actor_username", "action", "content_type", "object_id", "object_repr", "ip"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_username", "object_repr", "object_id"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Never copy a password hash into the trail: record only that it was set or changed.
_PASSWORD_SET, _PASSWORD_CHANGED, _PASSWORD_UNUSABLE = "(set)", "(changed)", "(unusable)"


class AuditedUserAdmin(auth_admin.UserAdmin):
    """The user admin, with every create, change (roles, superuser, staff, active, password) and deletion audited.

    Groups and permissions are saved in `save_related`, after `save_model`, so the event is recorded there, once the
    many-to-many fields hold their new values.
    """

    _M2M = ("groups", "user_permissions")
    audits_itself = True

    def _values(self, user: User) -> dict[str, Any]:
        names = [f.name for f in user._meta.concrete_fields if not f.primary_key] + list(self._M2M)
        values = field_values(user, names)
        values["password"] = _PASSWORD_SET if user.has_usable_password() else _PASSWORD_UNUSABLE
        return values

    def _changes(self, before: dict[str, Any] | None, user: User, old_hash: str | None) -> dict[str, list[Any]]:
        after = self._values(user)
        if before is None:
            return created(after)
        changes = diff(before, after)
        if old_hash is not None and old_hash != user.password and "password" not in changes:
            changes["password"] = [before["password"], _PASSWORD_CHANGED]
        return changes

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = User.objects.filter(pk=obj.pk).first() if change and obj.pk else None
        obj._audit_before = self._values(stored) if stored is not None else None
        obj._audit_old_hash = stored.password if stored is not None else None
        keep_unchanged_times(obj, stored, form)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(user, "_audit_before", None)
        changes = self._changes(before, user, getattr(user, "_audit_old_hash", None))
        if before is None:
            record(AuditAction.CREATE, user, request=request, changes=changes)
        elif changes:
            record(AuditAction.CHANGE, user, request=request, changes=changes)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        stored = User.objects.filter(pk=id).first() if request.method == "POST" else None
        before = self._values(stored) if stored is not None else None
        response = super().user_change_password(request, id, form_url)
        if stored is not None and before is not None:
            user = User.objects.get(pk=stored.pk)
            changes = self._changes(before, user, stored.password)
            if changes:
                record(AuditAction.CHANGE, user, request=request, changes=changes)
        return response

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        values = self._values(obj)
        record(AuditAction.DELETE, obj, request=request, changes={k: [v, None] for k, v in values.items()})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
