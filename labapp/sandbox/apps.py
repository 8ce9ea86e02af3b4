from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "labapp.sandbox"
    label = "sandbox"
