"""The Celery app. Configuration comes from the CELERY_* Django settings."""

import os

from celery import Celery
from celery.signals import worker_init

from gallery.worker import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _make_filesystem_broker_folders() -> None:
    """kombu's filesystem transport expects its folders to exist."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            os.makedirs(options[key], exist_ok=True)


@worker_init.connect
def _worker_closes_connections(**kwargs) -> None:
    """A web process keeps its database connection; a worker's hundreds of threads must not
    (PostgreSQL allows about a hundred connections in all)."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


app.on_after_configure.connect(
    lambda sender, **kwargs: _make_filesystem_broker_folders(), weak=False
)
app.autodiscover_tasks()
app.steps["worker"].add(Heartbeat)
