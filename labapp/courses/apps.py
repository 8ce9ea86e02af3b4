from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "labapp.courses"
    label = "courses"
