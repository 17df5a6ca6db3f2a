"""Accepting jobs: a generation request checked against the budgets, cancel, and retry.
The caller enqueues an accepted job once the transaction commits."""

import logging
from collections.abc import Sequence

from django.db import transaction

from gallery import accounts
from gallery.imagesapi import discovery, registry
from gallery.jobs import budgets
from gallery.jobs.refused import Refused
from gallery.models import Job, JobInput

log = logging.getLogger(__name__)


class ModelUnavailable(Refused, ValueError):
    """The model cannot take new jobs (shut down, or not usable with this key)."""


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
    complexity: str | None = None,
    frame_count: int | None = None,
    frame_duration_ms: int | None = None,
    visibility: str | None = None,
    board=None,
    api_token=None,
    idempotency_key: str = "",
) -> Job:
    """Record a generation request, or raise budgets.OverBudget or ModelUnavailable (nothing
    recorded). The caller enqueues the job once the transaction commits. Without a
    visibility the owner's preference applies (the site default until they set one)."""
    check_model(model)
    params = {
        "n": n,
        "size": size,
        "quality": quality,
        "background": background,
        "output_format": output_format,
        "moderation": moderation,
    }
    params.update(model_options(model, output_format, complexity, frame_count, frame_duration_ms))
    if output_compression is not None and output_format in ("jpeg", "webp"):
        params["output_compression"] = output_compression
    image_model = registry.get(model)
    if (
        partial_images
        and image_model
        and image_model.streaming
        and output_format
        in (
            "png",
            "jpeg",
            "webp",
        )
    ):
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


def check_model(model: str) -> None:
    """Raise ModelUnavailable unless `model` is offered for new jobs."""
    reason = discovery.unavailable_reason(model)
    if reason:
        raise ModelUnavailable(reason)


def model_options(
    model: str,
    output_format: str,
    complexity: str | None = None,
    frame_count: int | None = None,
    frame_duration_ms: int | None = None,
) -> dict:
    """The newer models' parameters a job saves, only where the model takes them:
    complexity (2.6), and the frames of GIF output."""
    image_model = registry.get(model)
    options: dict = {}
    if complexity and image_model and complexity in image_model.complexities:
        options["complexity"] = complexity
    if output_format == "gif":
        if frame_count is not None:
            options["frame_count"] = frame_count
        if frame_duration_ms is not None:
            options["frame_duration_ms"] = frame_duration_ms
    return options


def _accept_job(*, owner, inputs: Sequence[tuple[int, int]] = (), **fields) -> Job:
    """Create a job once the budgets allow the most it can cost, which is then held against
    them until the job finishes. The check and the insert share one serialized transaction."""
    estimate = budgets.estimate(
        model=fields["model"], prompt=fields["prompt"], params=fields["params"], inputs=inputs
    )
    with transaction.atomic():
        budgets.lock()
        budgets.check(owner, estimate)
        return Job.objects.create(
            owner=owner, estimate_usd=estimate.expected, held_usd=estimate.held, **fields
        )


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


def retry_job(job: Job, *, by, model: str | None = None) -> Job:
    """A new job with exactly the saved inputs of `job` (same owner), linked by retry_of:
    for an edit, the same input images in the same order and the same mask file. `model`
    runs it on another model (a retired model's job on its replacement): the parameters the
    new model does not take are dropped. Subject to the budgets and the offered models like
    any new job; the caller enqueues it after commit."""
    log.info("job %s retried by %s on %s", job.pk, by.pk, model or job.model)
    model = model or job.model
    check_model(model)
    params = dict(job.params)
    if model != job.model:
        params = params_for(model, params)
    links = list(job.inputs.select_related("image"))
    if any(link.image.trashed_at is not None for link in links):
        raise Refused(
            "An input image of this edit has been deleted, so the edit cannot run again. "
            "Restore it from its owner's Trash, or start a new edit."
        )
    inputs = [(link.image.width, link.image.height) for link in links]
    if job.markup:
        inputs.append(inputs[0])  # the markup layer is the first input's size
    with transaction.atomic():
        retry = _accept_job(
            owner=job.owner,
            kind=job.kind,
            model=model,
            prompt=job.prompt,
            params=params,
            mask=job.mask,
            markup=job.markup,
            visibility=job.visibility,
            retry_of=job,
            inputs=inputs,
        )
        JobInput.objects.bulk_create(
            JobInput(job=retry, position=given.position, image_id=given.image_id) for given in links
        )
    return retry


def params_for(model: str, params: dict) -> dict:
    """A job's parameters carried over to `model`: what it does not take is dropped or set
    back to `auto` (size, quality, background)."""
    image_model = registry.get(model)
    if image_model is None:
        return params
    moved = dict(params)
    if image_model.size_problem(str(moved.get("size", "auto")), output_format="png"):
        moved["size"] = "auto"
    if moved.get("quality") not in image_model.qualities:
        moved["quality"] = "auto"
    if moved.get("background") not in image_model.backgrounds:
        moved["background"] = "auto"
    if moved.get("output_format") not in image_model.output_formats:
        moved["output_format"] = "png"
        moved.pop("output_compression", None)
    if not image_model.input_fidelity:
        moved.pop("input_fidelity", None)
    if moved.get("complexity") not in image_model.complexities:
        moved.pop("complexity", None)
    if not image_model.streaming:
        moved.pop("partial_images", None)
    return moved
