from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "labapp.classroom"
    label = "classroom"
    verbose_name = "Instructor workspace"
