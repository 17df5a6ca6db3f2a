"""Worker bootsteps: a heartbeat for /healthz, and a doorbell that re-sends jobs whose broker
message was lost (the database is the source of truth, the broker only rings)."""

import logging

from celery import bootsteps
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
DOORBELL_SECONDS = 30.0


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        self.hostname = worker.hostname
        self.timers = [
            worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.beat),
            worker.timer.call_repeatedly(DOORBELL_SECONDS, self.ring),
        ]
        self.beat()

    def stop(self, worker):
        for timer in getattr(self, "timers", []):
            timer.cancel()

    def beat(self):
        # The app registry is ready only once the worker runs, so models load here.
        from .models import WorkerHeartbeat

        close_old_connections()
        WorkerHeartbeat.objects.update_or_create(
            hostname=self.hostname, defaults={"seen_at": timezone.now()}
        )
        close_old_connections()

    def ring(self):
        from . import services, tasks

        close_old_connections()
        try:
            job_ids = services.jobs_needing_a_doorbell()
            for job_id in job_ids:
                tasks.run_job.delay(job_id)
            if job_ids:
                log.info("re-sent %d queued jobs whose message may have been lost", len(job_ids))
        finally:
            close_old_connections()
