from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labapp.labs"
    label = "labs"
