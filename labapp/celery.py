"""The Celery application: `celery -A labapp worker`."""

import os

from celery import Celery

from .broker import make_filesystem_puts_atomic

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.settings")

make_filesystem_puts_atomic()  # before any message is sent (see labapp/broker.py)
app = Celery("labapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
