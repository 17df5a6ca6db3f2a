"""Files picked on the edit page that are not (yet) part of a submitted edit.

The edit page uploads each file as soon as it is picked, so that it can show it and a mask
can be painted over it, before the person has said who may see the edit. Until an edit using
it is submitted, such an upload is private to its owner whatever their default, and
`Image.pending_since` says since when. Submitting the edit gives its pending inputs the
visibility chosen on the form. Uploads still pending after PENDING_FOR are deleted, with
their files where no other image uses them: `manage.py delete_pending_uploads`, and every
worker once an hour (gallery/worker.py).
"""

import logging
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from gallery.jobs import uploads
from gallery.models import Image, Visibility

log = logging.getLogger(__name__)

PENDING_FOR = timedelta(days=1)


def stage(*, owner, upload: uploads.CheckedUpload) -> Image:
    """Store a file picked on the edit page: private and pending until an edit uses it (the
    same file picked again is the same Image, as it was)."""
    return uploads.store_upload(
        owner=owner, upload=upload, visibility=Visibility.PRIVATE, pending=True
    )


def submit(*, owner, images: list, visibility: str) -> None:
    """Inside the transaction that records an edit: the owner's pending uploads among its
    inputs take the edit's visibility and stop being pending."""
    ids = [image.pk for image in images if isinstance(image, Image) and image.pending_since]
    if ids:
        Image.objects.filter(pk__in=ids, owner=owner, pending_since__isnull=False).update(
            pending_since=None, visibility=visibility
        )


def delete_expired(*, older_than: timedelta = PENDING_FOR) -> int:
    """Delete uploads pending for longer than `older_than`, and their files where no other
    image uses them; returns how many were deleted."""
    cutoff = timezone.now() - older_than
    deleted = 0
    for image in Image.objects.filter(pending_since__lt=cutoff).iterator():
        try:
            with transaction.atomic():
                # Only if it is still pending: an edit submitted a moment ago keeps it.
                gone, _ = Image.objects.filter(pk=image.pk, pending_since__lt=cutoff).delete()
        except ProtectedError:  # used by a job after all (an edit is recording it)
            continue
        if gone:
            deleted += 1
            _delete_unused_files(image)
    if deleted:
        log.info(
            "deleted %d uploads picked more than %s ago and never submitted", deleted, older_than
        )
    return deleted


def _delete_unused_files(image: Image) -> None:
    # Originals and thumbnails are content-addressed: another image may share them.
    for name in (image.file.name, image.thumbnail.name, image.thumbnail_small.name):
        used = Image.objects.filter(
            Q(file=name) | Q(thumbnail=name) | Q(thumbnail_small=name)
        ).exists()
        if name and not used:
            default_storage.delete(name)
