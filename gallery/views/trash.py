"""Deleting images and jobs, the Trash page, restoring and deleting forever.

Every delete can be undone: the page shows a toast with "Undo" for 30 seconds, and the Trash
page keeps what was deleted for 30 days (gallery/trash.py). Only the owner, or staff, may
delete; anyone else gets the 404 they would get for the image itself."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, trash
from gallery.media import serving
from gallery.views import form_status

# The session key under which the next page finds what the last delete can undo.
UNDO_KEY = "trash_undo"


@login_required
@require_GET
def trash_page(request):
    context = {
        "images": trash.in_trash(request.user),
        "jobs": trash.jobs_in_trash(request.user),
        "days": trash.TRASH_DAYS,
    }
    return render(request, "gallery/trash.html", context)


@login_required
@require_GET
def trashed_thumbnail(request, pk: int):
    """The small thumbnail of an image in the trash, for the Trash page (its owner, staff)."""
    image = access.trashed_images_for_owner(request.user, [pk]).filter(purged_at=None).first()
    if image is None or not image.thumbnail_small.name:
        raise Http404("No such image in your trash.")
    return serving.file_response(
        request,
        image.thumbnail_small.name,
        content_type="image/webp",
        filename=f"studio-{image.pk}-256.webp",
        etag=f"{image.sha256}-256",
        private=True,
    )


@login_required
@require_POST
def image_delete(request, pk: int):
    """Move one image to the trash (its owner or staff)."""
    image = access.image_for_deleter(request.user, pk)
    trash.trash_images([image.pk])
    offer_undo(request, f"Image {image.pk} moved to the trash.", images=[image.pk])
    return redirect(_back(request, away_from=image.get_absolute_url()))


@login_required
@require_POST
def job_delete(request, pk: int):
    """Move a finished job and its images to the trash (its owner or staff)."""
    job = access.job_for_deleter(request.user, pk)
    try:
        images = trash.trash_job(job)
    except trash.TrashError as problem:
        messages.error(request, str(problem))
        if request.htmx:
            return render(request, "gallery/toasts.html", status=form_status(request))
        return redirect(job)
    count = f" and its {len(images)} image{'s' if len(images) != 1 else ''}" if images else ""
    offer_undo(request, f"Job {job.pk}{count} moved to the trash.", job=job.pk)
    return redirect(_back(request, away_from=job.get_absolute_url()))


@login_required
@require_POST
def restore(request):
    """Take images (`image`, repeated) or a job (`job`) out of the trash: Undo, or the Trash
    page's Restore."""
    restored = 0
    if request.POST.get("job"):
        job = access.trashed_job_for_owner(request.user, request.POST["job"])
        restored = trash.restore_job(job)
        messages.success(request, f"Job {job.pk} restored.")
    else:
        images = access.trashed_images_for_owner(request.user, request.POST.getlist("image"))
        restored = trash.restore_images(images.values_list("pk", flat=True))
        if not restored:
            raise Http404("Nothing to restore: it is not in your trash.")
        messages.success(request, f"{restored} image{'s' if restored != 1 else ''} restored.")
    return redirect(_back(request, away_from=""))


@login_required
@require_POST
def delete_forever(request):
    """Remove trashed images (`image`, repeated) or a trashed job (`job`) and their files for
    good. There is no undo: the page asked for confirmation."""
    if request.POST.get("job"):
        job = access.trashed_job_for_owner(request.user, request.POST["job"])
        purged = trash.delete_job_forever(job)
        messages.success(request, f"Job {job.pk} deleted forever.")
    else:
        images = access.trashed_images_for_owner(request.user, request.POST.getlist("image"))
        purged = trash.delete_forever(images.values_list("pk", flat=True))
        if not purged:
            raise Http404("Nothing to delete: it is not in your trash.")
        messages.success(request, f"{purged} image{'s' if purged != 1 else ''} deleted forever.")
    return redirect(reverse("gallery:trash"))


def offer_undo(request, text: str, *, images: list[int] | None = None, job: int | None = None):
    """Say what was deleted, with an Undo button, on the next page shown (or in the htmx
    response that renders gallery/toasts.html)."""
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("gallery:gallery")
    request.session[UNDO_KEY] = {"text": text, "images": images or [], "job": job, "next": back}


def _back(request, *, away_from: str) -> str:
    """Where to go after a delete: the page it came from, unless that is the thing deleted
    (its page is gone now), else the gallery."""
    target = request.POST.get("next", "")
    local = target.startswith("/") and not target.startswith("//")
    if local and not (away_from and target.split("?")[0] == away_from):
        return target
    return reverse("gallery:gallery")
