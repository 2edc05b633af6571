from django.apps import AppConfig


class PostureConfig(AppConfig):
    name = "compliance.posture"
    label = "posture"
    verbose_name = "Posture"
