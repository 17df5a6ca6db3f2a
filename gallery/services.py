"""The studio's domain operations. Plain keyword-only functions: they never see a request
and never import tasks (views and tasks decide when to enqueue)."""

import logging
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import boards, budgets, edits, engine, images_api, media, provenance, registry
from .models import Attempt, Image, Job, JobInput, Profile, Visibility

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
        visibility=visibility or default_visibility(owner),
        board=board,
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


def default_visibility(user) -> str:
    """The visibility a person's new jobs and uploads get unless they choose otherwise."""
    return Profile.default_visibility_for(user)


def set_default_visibility(*, user, visibility: str) -> None:
    Profile.objects.update_or_create(user=user, defaults={"default_visibility": visibility})


def deactivate_people(people) -> int:
    """Stop people from signing in without losing anything they made: their jobs and images
    stay (shared ones stay visible), and Django refuses inactive accounts at sign-in and on
    every request of a session they already had. Their queued jobs are canceled so the API
    key spends nothing more on their behalf (a running one finishes)."""
    with transaction.atomic():
        ids = list(people.filter(is_active=True).values_list("pk", flat=True))
        people.model.objects.filter(pk__in=ids).update(is_active=False)
        Job.objects.filter(owner_id__in=ids, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELED,
            finished_at=timezone.now(),
            error="Canceled: the owner's account was deactivated.",
        )
    return len(ids)


def set_visibility(*, target: Job | Image, visibility: str) -> None:
    """Make a job (with all its images) or one image shared or private. The caller has
    checked that the person may (gallery.access.*_for_owner)."""
    if visibility not in Visibility.values:
        raise ValueError(f"Unknown visibility {visibility!r}")
    with transaction.atomic():
        if isinstance(target, Job):
            # Lock the job first, as _record_success does, so images stored concurrently
            # get the new visibility too.
            list(Job.objects.select_for_update().filter(pk=target.pk).values_list("pk"))
            Job.objects.filter(pk=target.pk).update(visibility=visibility)
            Image.objects.filter(job_id=target.pk).update(visibility=visibility)
        else:
            Image.objects.filter(pk=target.pk).update(visibility=visibility)
    target.visibility = visibility


def claim_job(job_id: int) -> Job | None:
    """Claim this very job (queued and due), whatever the fair order says; workers use
    engine.claim_next instead."""
    return engine.take(job_id, holder=engine.new_holder())


def run_job(job: Job) -> float | None:
    """Call the API for a claimed (running) job and store what it returns.

    No database connection is held during the call: with hundreds of calls in flight,
    PostgreSQL would run out of connections. Returns the number of seconds after which
    the job should be tried again when a transient failure leaves attempts to spare;
    None when the job is finished."""
    timing = _Timing(started_at=job.started_at or timezone.now(), clock=time.monotonic())
    engine.close_connection()
    try:
        try:
            result = _call_api(job)
        except images_api.APIError as error:
            timing.api_done()
            with engine.db_slot():
                return _record_failure(job, error, timing)
        timing.api_done()
        try:
            stored = [media.store(data) for data in result.images]
        except media.NotAnImage as error:
            with engine.db_slot():
                return _record_failure(job, images_api.TransientError(str(error)), timing)
        readings = [
            provenance.read(data, mime=s.content_type)
            for data, s in zip(result.images, stored, strict=True)
        ]
        composites = edits.make_composites(job, result.images) if job.kind == Job.Kind.EDIT else []
        with engine.db_slot():
            _record_success(job, result, stored, readings, timing, composites)
        return None
    finally:
        engine.release(job.pk)


class _Timing:
    """When an attempt started (its claim), and how long its API call took."""

    def __init__(self, *, started_at, clock: float):
        self.started_at = started_at
        self.clock = clock
        self.api_ms: int | None = None

    def api_done(self) -> None:
        self.api_ms = int((time.monotonic() - self.clock) * 1000)

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.clock) * 1000)


def _call_api(job: Job) -> images_api.Result:
    if job.kind == Job.Kind.EDIT:
        return edits.run_edit(job)
    params = job.params
    streaming = {}
    if job.partial_images:
        streaming = {"partial_images": job.partial_images, "on_partial": _partial_saver(job)}
    return images_api.generate(
        model=job.model,
        prompt=job.prompt,
        n=params.get("n", 1),
        size=params.get("size"),
        quality=params.get("quality"),
        background=params.get("background"),
        output_format=params.get("output_format"),
        output_compression=params.get("output_compression"),
        moderation=params.get("moderation"),
        **streaming,
    )


def _partial_saver(job: Job):
    """An on_partial callback that stores each streamed preview as a derived file and
    points the job at it, so the job card can show it at once. The file before last is
    removed (the last one may still be loading in a browser). Like the rest of the call,
    it holds no database connection between previews."""
    names: list[str] = []

    def save(index: int, data: bytes) -> None:
        try:
            name = media.store_partial(job.pk, f"{job.attempts}-{len(names)}", data)
        except media.NotAnImage as error:
            log.warning("job %s: skipped a partial image: %s", job.pk, error)
            return
        with engine.db_slot():
            Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
                partial_file=name, partial_index=index, partial_at=timezone.now()
            )
        names.append(name)
        if len(names) > 2:
            media.delete_partial(names[-3])

    return save


def _record_success(job, result, stored, readings, timing: "_Timing", composites=()) -> None:
    model = registry.get(job.model)
    cost = model.cost(result.usage) if model else Decimal(0)
    per_image = (cost / max(len(stored), 1)).quantize(Decimal("0.000001"))
    images = [
        Image(
            owner_id=job.owner_id,
            job=job,
            index=index,
            source=Image.Source.EDITED if job.kind == Job.Kind.EDIT else Image.Source.GENERATED,
            **s.image_fields(),
            prompt=job.prompt,
            revised_prompt=_revised_prompt(result, index),
            model=job.model,
            quality=result.quality or job.params.get("quality", ""),
            background=result.background or job.params.get("background", ""),
            provenance_state=reading.state,
            ai_generated=reading.ai_generated,
            provenance=reading.summary,
            manifest_json=reading.manifest_json or "",
            cost_usd=per_image,
        )
        for index, (s, reading) in enumerate(zip(stored, readings, strict=True))
    ]
    now = timezone.now()
    try:
        with transaction.atomic():
            # The job's status and visibility as they are now (the owner may have canceled
            # it or changed who sees it while the call ran); the row lock orders this
            # against cancel_job() and set_visibility().
            status, visibility = (
                Job.objects.select_for_update()
                .filter(pk=job.pk)
                .values_list("status", "visibility")
                .get()
            )
            if status == Job.Status.SUCCEEDED:
                raise IntegrityError("this job's outputs are stored already")
            for image in images:
                image.visibility = visibility
            Image.objects.bulk_create(images)
            if job.kind == Job.Kind.EDIT:
                edits.record_outputs(job, images, list(composites))
            boards.add_job_outputs(job, images)
            outcome = {
                "usage": result.usage,
                "cost_usd": cost,
                "request_id": result.request_id,
                "error_code": "",
                "lease_expires_at": None,
                "partial_file": "",
            }
            if status == Job.Status.CANCELED:
                # The call was paid for before the cancel could stop it: keep what it made.
                outcome["error"] = (
                    "Canceled while the API call was in flight. The call was charged, so the "
                    f"images it made were kept ({len(images)})."
                )
            else:
                outcome.update(status=Job.Status.SUCCEEDED, error="", finished_at=now)
            Job.objects.filter(pk=job.pk).update(**outcome)
            _log_attempt(job, timing, Attempt.Outcome.SUCCEEDED, result.request_id)
    except IntegrityError:
        # Another worker already stored this job's images (the unique constraint on
        # job + index says so): exactly one set is kept, and this call's set is dropped.
        log.warning("job %s: outputs were already stored by another worker", job.pk)
        _log_attempt(
            job,
            timing,
            Attempt.Outcome.SUCCEEDED,
            result.request_id,
            note="An earlier attempt's images were stored already; this call's were not kept.",
        )
    media.delete_partials(job.pk)


def _revised_prompt(result: images_api.Result, index: int) -> str:
    revised = result.revised_prompts[index] if index < len(result.revised_prompts) else None
    return revised or ""


def _record_failure(job, error: images_api.APIError, timing: "_Timing") -> float | None:
    # The budget counts calls that got an answer (or a timeout), not calls whose worker died.
    attempts = job.attempts - job.losses
    retry = isinstance(error, images_api.TransientError) and attempts < settings.JOB_MAX_ATTEMPTS
    now = timezone.now()
    # Only while this worker still holds the job: it may have been canceled, or taken over
    # after this worker's lease ran out.
    ours = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_holder=job.lease_holder)
    with transaction.atomic():
        if retry:
            delay = retry_delay(attempts, error.retry_after)
            changed = ours.update(
                status=Job.Status.QUEUED,
                next_attempt_at=now + timedelta(seconds=delay),
                lease_expires_at=None,
                error=error.message,
                error_code=error.code,
                request_id=error.request_id,
            )
            outcome = Attempt.Outcome.RETRYING
        else:
            message = error.message
            if isinstance(error, images_api.TransientError):
                message = f"Gave up after {attempts} attempts. {message}"
            changed = ours.update(
                status=Job.Status.FAILED,
                partial_file="",
                finished_at=now,
                lease_expires_at=None,
                error=message,
                error_code=error.code,
                request_id=error.request_id,
            )
            outcome = Attempt.Outcome.FAILED
        if not changed:
            outcome = Attempt.Outcome.FAILED
        _log_attempt(job, timing, outcome, error.request_id, error)
    if not (retry and changed):
        media.delete_partials(job.pk)
    log.info("job %s attempt %s: %s (%s)", job.pk, attempts, outcome, error.message)
    return delay if retry and changed else None


def _log_attempt(job, timing, outcome, request_id, error=None, note: str = "") -> None:
    Attempt.objects.update_or_create(
        job=job,
        number=job.attempts,
        defaults={
            "started_at": timing.started_at,
            "image_count": job.n,
            "duration_ms": timing.duration_ms,
            "api_ms": timing.api_ms,
            "outcome": outcome,
            "status_code": getattr(error, "status", None) if error else 200,
            "request_id": request_id or "",
            "error": error.message if error else note,
        },
    )


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter; the API's Retry-After wins when it asks for longer."""
    backoff = min(settings.JOB_RETRY_MAX_DELAY, settings.JOB_RETRY_BASE_DELAY * 2 ** (attempts - 1))
    backoff *= 0.75 + random.random() / 4
    if retry_after is not None:
        backoff = max(backoff, min(retry_after, settings.JOB_RETRY_MAX_DELAY))
    return backoff


def jobs_needing_a_doorbell(*, limit: int = 500) -> list[int]:
    """Ids of jobs whose broker message may have been lost, so they need to be sent again.

    The database, not the broker, is the source of truth: a broker that restarts empty, a
    retry countdown held by a worker that died, or a crash between commit and enqueue all
    leave a job queued with nobody coming for it. Running jobs whose lease ran out (their
    worker was killed) go back to the queue first. Sending a job twice is harmless: only
    one claim can win."""
    engine.requeue_lost_jobs(limit=limit)
    overdue = timezone.now() - timedelta(seconds=settings.DOORBELL_SECONDS)
    stale = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(next_attempt_at__isnull=True, created_at__lt=overdue) | Q(next_attempt_at__lt=overdue)
    )
    return list(stale.order_by("created_at").values_list("pk", flat=True)[:limit])
