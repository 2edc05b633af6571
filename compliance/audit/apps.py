from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "compliance.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from compliance.audit import signals  # noqa: F401  (connects the login receivers)
