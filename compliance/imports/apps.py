from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "compliance.imports"
    label = "imports"
    verbose_name = "Imported evidence"
