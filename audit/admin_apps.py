"""The admin app, with a site whose every add, change and deletion is audited (audit/admin_site.py).

Settings: INSTALLED_APPS lists "audit.admin_apps.AuditedAdminConfig" in place of "django.contrib.admin".
"""

from django.contrib.admin.apps import AdminConfig


class AuditedAdminConfig(AdminConfig):
    default_site = "audit.admin_site.AuditedAdminSite"
