"""AWS Developer Lab: the Django project package. Its apps are the subpackages."""

from .celery import app as celery_app

__all__ = ("celery_app",)
