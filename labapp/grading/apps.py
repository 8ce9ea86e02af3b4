from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "labapp.grading"
    label = "grading"
