"""Running a claimed job: call the image API, store what it returned, record the outcome.
Never sees a request and never imports tasks (tasks decide when to enqueue)."""

import logging
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gallery import imagesapi, media, provenance
from gallery.browse import boards
from gallery.imagesapi import registry
from gallery.jobs import edits, engine
from gallery.models import Attempt, Image, Job

log = logging.getLogger(__name__)


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
        except imagesapi.APIError as error:
            timing.api_done()
            with engine.db_slot():
                return _record_failure(job, error, timing)
        timing.api_done()
        try:
            stored = [media.store_output(data) for data in result.images]
        except media.NotAnImage as error:
            with engine.db_slot():
                return _record_failure(job, imagesapi.TransientError(str(error)), timing)
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


def _call_api(job: Job) -> imagesapi.Result:
    if job.kind == Job.Kind.EDIT:
        return edits.run_edit(job)
    streaming = {}
    if job.partial_images:
        streaming = {"partial_images": job.partial_images, "on_partial": _partial_saver(job)}
    return imagesapi.generate(
        model=job.model, prompt=job.prompt, **job.api_options("moderation"), **streaming
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
    cost = model.cost(result.usage, result.svg_usage) if model else Decimal(0)
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
            quality=result.quality or _asked(job, "quality"),
            background=result.background or _asked(job, "background"),
            provenance_state=reading.state,
            ai_generated=reading.ai_generated,
            api_token_id=job.api_token_id,
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


def _asked(job: Job, name: str) -> str:
    """What the job asked for, when the answer did not say what it resolved; `auto` is not
    a resolution, so it is recorded as unknown."""
    value = job.params.get(name, "")
    return "" if value == "auto" else value


def _revised_prompt(result: imagesapi.Result, index: int) -> str:
    revised = result.revised_prompts[index] if index < len(result.revised_prompts) else None
    return revised or ""


def _record_failure(job, error: imagesapi.APIError, timing: "_Timing") -> float | None:
    # The budget counts calls that got an answer (or a timeout), not calls whose worker died.
    attempts = job.attempts - job.losses
    retry = (
        isinstance(error, imagesapi.TransientError) and attempts < settings.STUDIO_JOB_MAX_ATTEMPTS
    )
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
            if isinstance(error, imagesapi.TransientError):
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
    backoff = min(
        settings.STUDIO_RETRY_MAX_DELAY, settings.STUDIO_RETRY_BASE_DELAY * 2 ** (attempts - 1)
    )
    backoff *= 0.75 + random.random() / 4
    if retry_after is not None:
        backoff = max(backoff, min(retry_after, settings.STUDIO_RETRY_MAX_DELAY))
    return backoff
