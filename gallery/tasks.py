"""Thin Celery tasks: a message is a doorbell; the engine decides which job runs."""

import threading
import time

from celery import shared_task

from gallery import jobs
from gallery.browse import features
from gallery.jobs import engine, uploads
from gallery.models import Image

_wake_lock = threading.Lock()
_wake_at = 0.0


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(job_id: int) -> None:
    """Run the fairest due job, then the next, until none is due or a limit says wait.
    `job_id` only says why the bell rang: fairness, not the message, picks the job."""
    while True:
        with engine.db_slot():
            claimed = engine.claim_next(holder=engine.new_holder())
        if isinstance(claimed, engine.Limited):
            if claimed.wait is not None:
                _wake_later(job_id, claimed.wait)
            return  # a running job's thread takes the next one when it finishes
        if claimed is None:
            return
        retry_in = jobs.run_job(claimed)
        landed = list(Image.objects.filter(job=claimed).values_list("pk", flat=True))
        if landed:
            describe_images.delay(landed)
        if retry_in is not None:
            run_job.apply_async((claimed.pk,), countdown=retry_in)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def finish_upload(image_id: int) -> None:
    """An upload's thumbnails and Content Credentials, made off the web request."""
    if uploads.finish_upload(image_id):
        describe_images.delay([image_id])


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def describe_images(image_ids: list[int]) -> None:
    """The prompt vectors and perceptual hashes of images that just landed."""
    features.describe(image_ids)


def _wake_later(job_id: int, wait: float) -> None:
    """Ring once when the images-per-minute window has room; one pending ring per process
    is enough, since the thread that answers it keeps going while jobs are due."""
    global _wake_at
    with _wake_lock:
        now = time.monotonic()
        if _wake_at > now:
            return
        _wake_at = now + wait
    run_job.apply_async((job_id,), countdown=wait)
