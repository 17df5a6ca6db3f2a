"""A worker bootstep that records a heartbeat in the database for /healthz."""

from celery import bootsteps
from django.db import close_old_connections
from django.utils import timezone

INTERVAL_SECONDS = 15.0


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        self.hostname = worker.hostname
        self.beat()
        self.timer = worker.timer.call_repeatedly(INTERVAL_SECONDS, self.beat)

    def stop(self, worker):
        if getattr(self, "timer", None):
            self.timer.cancel()

    def beat(self):
        from .models import WorkerHeartbeat  # the app registry is ready only once the worker runs

        close_old_connections()
        WorkerHeartbeat.objects.update_or_create(
            hostname=self.hostname, defaults={"seen_at": timezone.now()}
        )
        close_old_connections()
