"""The Celery app. Configuration comes from the CELERY_* Django settings."""

import os

from celery import Celery

from gallery.worker import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(Heartbeat)
