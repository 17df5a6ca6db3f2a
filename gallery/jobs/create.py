"""Accepting jobs: a generation request checked against the budgets, cancel, and retry.
The caller enqueues an accepted job once the transaction commits."""

import logging

from django.db import transaction

from gallery import accounts
from gallery.imagesapi import registry
from gallery.jobs import budgets
from gallery.models import Job, JobInput

log = logging.getLogger(__name__)


def create_job(
    *,
    owner,
    prompt: str,
    model: str,
    n: int = 1,
    size: str = "auto",
    quality: str = "auto",
    background: str = "auto",
    output_format: str = "png",
    output_compression: int | None = None,
    moderation: str = "auto",
    partial_images: int = 0,
    visibility: str | None = None,
    board=None,
    api_token=None,
    idempotency_key: str = "",
) -> Job:
    """Record a generation request, or raise budgets.OverBudget (nothing recorded). The
    caller enqueues the job once the transaction commits. Without a visibility the owner's
    preference applies (the site default until they set one)."""
    params = {
        "n": n,
        "size": size,
        "quality": quality,
        "background": background,
        "output_format": output_format,
        "moderation": moderation,
    }
    if output_compression is not None and output_format in ("jpeg", "webp"):
        params["output_compression"] = output_compression
    image_model = registry.get(model)
    if partial_images and image_model and image_model.streaming:
        params["partial_images"] = partial_images
    return _accept_job(
        owner=owner,
        kind=Job.Kind.GENERATE,
        model=model,
        prompt=prompt,
        params=params,
        visibility=visibility or accounts.default_visibility(owner),
        board=board,
        api_token=api_token,
        idempotency_key=idempotency_key,
    )


def _accept_job(*, owner, **fields) -> Job:
    """Create a job once the budgets allow its estimate, which is then held against them
    until the job finishes. The check and the insert share one serialized transaction."""
    estimate = budgets.estimate(
        model=fields["model"], prompt=fields["prompt"], params=fields["params"]
    )
    with transaction.atomic():
        budgets.lock()
        budgets.check(owner, estimate)
        return Job.objects.create(owner=owner, estimate_usd=estimate, **fields)


def cancel_job(job: Job, *, by) -> str:
    """Cancel a queued or running job and say what it means for the bill. A queued job is
    never sent; a running one has been sent, so it may be charged, and the worker keeps
    whatever images it returns."""
    was = Job.objects.cancel(job.pk)
    log.info("job %s canceled by %s (was %s)", job.pk, by.pk, was)
    if was == Job.Status.QUEUED:
        return f"Job {job.pk} canceled before it was sent: nothing was charged."
    if was == Job.Status.RUNNING:
        return (
            f"Job {job.pk} canceled. It was already sent to the image API, so the charge may "
            "already be incurred; any images it returns are kept."
        )
    job.refresh_from_db(fields=["status"])
    return f"Job {job.pk} had already finished ({job.get_status_display().lower()})."


def retry_job(job: Job, *, by) -> Job:
    """A new job with exactly the saved inputs of `job` (same owner), linked by retry_of:
    for an edit, the same input images in the same order and the same mask file.
    Subject to the budgets like any new job; the caller enqueues it after commit."""
    log.info("job %s retried by %s", job.pk, by.pk)
    with transaction.atomic():
        retry = _accept_job(
            owner=job.owner,
            kind=job.kind,
            model=job.model,
            prompt=job.prompt,
            params=dict(job.params),
            mask=job.mask,
            visibility=job.visibility,
            retry_of=job,
        )
        JobInput.objects.bulk_create(
            JobInput(job=retry, position=given.position, image_id=given.image_id)
            for given in job.inputs.all()
        )
    return retry
