from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    name = "compliance.administration"
    label = "administration"
    verbose_name = "Administration"
