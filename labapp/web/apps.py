from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "labapp.web"
    label = "web"
