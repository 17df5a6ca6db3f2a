"""Deleting images and jobs: the trash, restoring from it, and deleting forever.

Deleting moves an image (or a job with all its images) to its owner's trash: from then on it
is hidden everywhere as if it did not exist (gallery.models._visible_to), and its owner can
restore it for TRASH_DAYS. Deleting forever, or TRASH_DAYS in the trash (`manage.py
empty_trash`, and every worker hourly), removes its files from storage: the original, its
thumbnails, its job's previews, its prompt and what was derived from it (the Similar prompts
vector, the perceptual hash), its Content Credentials (the manifest JSON kept in the row)
and the ingredient thumbnails extracted from them. The row stays, emptied, because other
people's images may have been made from it: their lineage shows "a deleted image" where it
stood. Jobs are never deleted either: budgets and the spending page read what they cost.

Callers check who may delete (gallery.access: the owner, or staff).
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gallery import media
from gallery.models import (
    Board,
    BoardImage,
    Favourite,
    Image,
    Job,
    PerceptualHash,
    PromptEmbedding,
)
from gallery.provenance import manifests

log = logging.getLogger(__name__)

TRASH_DAYS = 30
KEEP_FOR = timedelta(days=TRASH_DAYS)


class TrashError(ValueError):
    """What a person asked for cannot be done; the message says why."""


def trash_images(ids: Iterable[int]) -> list[int]:
    """Move these images to the trash; returns the ids that were moved (not already there)."""
    ids = list(ids)
    with transaction.atomic():
        moved = list(
            Image.objects.filter(pk__in=ids, trashed_at__isnull=True).values_list("pk", flat=True)
        )
        Image.objects.filter(pk__in=moved).update(trashed_at=timezone.now())
    return moved


def trash_job(job: Job) -> list[int]:
    """Move a finished job and all its images to the trash; returns the images' ids. An
    unfinished job is refused: cancelling is a decision of its own (the call in flight may
    already be paid for, and cancel keeps what it brings)."""
    if not job.is_finished:
        raise TrashError("This job is still running. Cancel it first; then you can delete it.")
    now = timezone.now()
    with transaction.atomic():
        # Conditional, like a claim: a job that was retried into running again stays.
        Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELED]
        ).update(trashed_at=now)
        ids = list(
            Image.objects.filter(job=job, trashed_at__isnull=True).values_list("pk", flat=True)
        )
        Image.objects.filter(pk__in=ids).update(trashed_at=now)
    job.trashed_at = now
    return ids


def restore_images(ids: Iterable[int]) -> int:
    """Take these images out of the trash (with their jobs, when those were deleted too);
    files already removed cannot come back, so deleted-forever images stay deleted."""
    ids = list(ids)
    with transaction.atomic():
        images = Image.objects.filter(pk__in=ids, trashed_at__isnull=False, purged_at__isnull=True)
        job_ids = set(images.exclude(job=None).values_list("job_id", flat=True))
        restored = images.update(trashed_at=None)
        Job.objects.filter(pk__in=job_ids).update(trashed_at=None)
    return restored


def restore_job(job: Job) -> int:
    """Take a job out of the trash with those of its images that still have their files."""
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(trashed_at=None)
        restored = Image.objects.filter(
            job=job, trashed_at__isnull=False, purged_at__isnull=True
        ).update(trashed_at=None)
    job.trashed_at = None
    return restored


def in_trash(owner):
    """A person's trashed images whose files are still there, most recently deleted first."""
    return Image.objects.filter(
        owner=owner, trashed_at__isnull=False, purged_at__isnull=True
    ).order_by("-trashed_at", "-id")


def jobs_in_trash(owner):
    """A person's trashed jobs not yet deleted forever."""
    return Job.objects.filter(
        owner=owner, trashed_at__isnull=False, purged_at__isnull=True
    ).order_by("-trashed_at")


def delete_forever(ids: Iterable[int]) -> int:
    """Remove these trashed images' files from storage and empty their rows; returns how
    many were purged. Only images already in the trash are touched."""
    purged = 0
    for image in Image.objects.filter(
        pk__in=list(ids), trashed_at__isnull=False, purged_at__isnull=True
    ):
        if _purge(image):
            purged += 1
    return purged


def delete_job_forever(job: Job) -> int:
    """Delete a trashed job's images forever, and the job's own files (mask, markup)."""
    if job.trashed_at is None:
        raise TrashError("Only a job in the trash can be deleted forever.")
    ids = Image.objects.filter(job=job).values_list("pk", flat=True)
    purged = delete_forever(ids)
    names = [name for name in (job.mask.name, job.markup.name) if name]
    Job.objects.filter(pk=job.pk).update(
        mask="", markup="", partial_file="", purged_at=timezone.now()
    )
    for name in names:
        if not Job.objects.filter(Q(mask=name) | Q(markup=name)).exists():
            media.delete_file(name)
    media.delete_partials(job.pk)
    return purged


def empty_trash(*, older_than: timedelta = KEEP_FOR) -> int:
    """Delete forever what has been in the trash longer than `older_than` (images, and jobs
    with their files); returns how many images were purged."""
    cutoff = timezone.now() - older_than
    purged = delete_forever(
        Image.objects.filter(trashed_at__lt=cutoff, purged_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    for job in Job.objects.filter(trashed_at__lt=cutoff, purged_at__isnull=True):
        delete_job_forever(job)
    if purged:
        log.info("deleted %d images that were in the trash for more than %s", purged, older_than)
    return purged


def _purge(image: Image) -> bool:
    names = [image.file.name, image.thumbnail.name, image.thumbnail_small.name]
    with transaction.atomic():
        # Conditional: a restore that came first wins, and two purges never both run.
        won = Image.objects.filter(
            pk=image.pk, trashed_at__isnull=False, purged_at__isnull=True
        ).update(
            purged_at=timezone.now(),
            file="",
            thumbnail="",
            thumbnail_small="",
            prompt="",
            revised_prompt="",
            provenance=None,
            manifest_json="",
        )
        if not won:
            return False
        BoardImage.objects.filter(image=image).delete()
        Favourite.objects.filter(image=image).delete()
        Board.objects.filter(cover=image).update(cover=None)
        # What was derived from the prompt and the pixels goes with them: a prompt's vector
        # still says what it was about.
        PromptEmbedding.objects.filter(image=image).delete()
        PerceptualHash.objects.filter(image=image).delete()
    # Files are content-addressed: another image (the same upload by someone else, a
    # restored copy) may use the same ones, and then they stay.
    for name in filter(None, names):
        if not _still_used(name):
            media.delete_file(name)
    if image.file.name and not _still_used(image.file.name):
        manifests.forget_ingredient_thumbnails(image.sha256)
    if image.job_id is not None:
        media.delete_partials(image.job_id)
    return True


def _still_used(name: str) -> bool:
    return Image.objects.filter(Q(file=name) | Q(thumbnail=name) | Q(thumbnail_small=name)).exists()
