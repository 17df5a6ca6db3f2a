"""Worker bootsteps: a heartbeat for /healthz that also renews the leases of the jobs this
worker runs, a doorbell that re-sends jobs whose broker message was lost (the database
is the source of truth, the broker only rings), an hourly tidy-up, and model discovery: which
image models the API key can use, asked on start and then hourly."""

import logging
import threading
from datetime import timedelta

from celery import bootsteps
from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
# How often each worker deletes uploads picked but never submitted, and old rate counters.
TIDY_SECONDS = 3600.0
# An upload still processing after this long has probably lost its message.
DOORBELL_GRACE = 60.0


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        self.hostname = worker.hostname
        # Renew well before a lease can run out, even when a beat is late.
        beat_every = min(HEARTBEAT_SECONDS, settings.STUDIO_JOB_LEASE_SECONDS / 4)
        self.timers = [
            worker.timer.call_repeatedly(beat_every, self.beat),
            worker.timer.call_repeatedly(settings.STUDIO_DOORBELL_SECONDS, self.ring),
            worker.timer.call_repeatedly(TIDY_SECONDS, self.tidy),
            worker.timer.call_repeatedly(settings.STUDIO_MODELS_REFRESH_SECONDS, self.discover),
        ]
        self.beat()
        # On its own thread: an API that is slow to answer must not hold up the worker's start.
        threading.Thread(target=self.discover, name="model-discovery", daemon=True).start()

    def stop(self, worker):
        for timer in getattr(self, "timers", []):
            timer.cancel()

    def beat(self):
        # The app registry is ready only once the worker runs, so models load here.
        from gallery.jobs import engine
        from gallery.models import WorkerHeartbeat

        # Not through engine.db_slot: behind hundreds of busy threads a renewal could come
        # too late, and a live worker's jobs would look lost. One extra connection it is.
        engine.close_connection()
        try:
            engine.renew_leases()
            WorkerHeartbeat.objects.update_or_create(
                hostname=self.hostname, defaults={"seen_at": timezone.now()}
            )
        except Exception:
            # A database restart must not stop the timer; the next beat tries again.
            log.exception("heartbeat failed")
        finally:
            engine.close_connection()

    def discover(self):
        from gallery.imagesapi import discovery
        from gallery.jobs import engine

        try:
            answer = discovery.ask()  # no database connection is held while the API answers
            with engine.db_slot():
                discovery.keep(answer)
        except Exception:
            log.exception("model discovery failed")

    def ring(self):
        from gallery import tasks
        from gallery.jobs import engine, uploads

        try:
            with engine.db_slot():
                job_ids = engine.jobs_needing_a_doorbell()
            for job_id in job_ids:
                tasks.run_job.delay(job_id)
            if job_ids:
                log.info("re-sent %d queued jobs whose message may have been lost", len(job_ids))
            with engine.db_slot():
                image_ids = uploads.unfinished(older_than=timedelta(seconds=DOORBELL_GRACE))
            for image_id in image_ids:
                tasks.finish_upload.delay(image_id)
            if image_ids:
                log.info("re-sent %d unprocessed uploads", len(image_ids))
        except Exception:
            log.exception("doorbell failed")

    def tidy(self):
        from gallery import trash
        from gallery.jobs import engine, limits, pending_uploads

        try:
            with engine.db_slot():
                pending_uploads.delete_expired()
                limits.prune()
                trash.empty_trash()
        except Exception:
            log.exception("tidying up failed")
