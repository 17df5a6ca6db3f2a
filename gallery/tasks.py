"""Thin Celery tasks: take an id, claim the row, call a service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(job_id: int) -> None:
    job = services.claim_job(job_id)
    if job is None:
        return  # someone else has it, it is finished, or its next attempt is not due
    retry_in = services.run_job(job)
    if retry_in is not None:
        run_job.apply_async((job_id,), countdown=retry_in)
