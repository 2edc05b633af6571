from django.apps import AppConfig


class ExceptionsConfig(AppConfig):
    name = "compliance.exceptions"
    label = "exceptions"
    verbose_name = "Exceptions"
