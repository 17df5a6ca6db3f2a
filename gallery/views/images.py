"""An image's page, its original and thumbnails, and who may see an image or a job."""

import hashlib
import logging
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, media
from gallery.browse import similar
from gallery.media import serving
from gallery.models import Board, Image, Job, PerceptualHash, Visibility
from gallery.views import form_status

log = logging.getLogger(__name__)


@login_required
@require_GET
def image_detail(request, pk: int):
    image = access.image_for_viewer(request.user, pk, Image.objects.select_related("owner", "job"))
    mine = Board.objects.filter(owner=request.user)
    on_boards = list(mine.filter(boardimage__image=image))
    context = {
        "image": image,
        "on_boards": on_boards,
        "other_boards": mine.exclude(pk__in=[board.pk for board in on_boards]),
        "visibility": visibility_control(request.user, image),
        # An image can be shared while its job is private: then the job stays hidden.
        "job_visible": image.job_id is not None
        and access.visible_jobs(request.user).filter(pk=image.job_id).exists(),
        "similar": similar.similar_images(image, request.user),
        "has_hash": PerceptualHash.objects.filter(image=image).exists(),
        "similar_prompts_query": urlencode({"q": image.prompt[:200], "similar": "1"}),
    }
    return render(request, "gallery/image.html", context)


@login_required
@require_GET
def image_original(request, pk: int):
    """The original bytes exactly as stored (they carry the C2PA manifest), checked against
    the sha256 recorded at storage so a damaged or swapped file is never passed off as it."""
    image = access.image_for_viewer(request.user, pk)
    if not serving.client_has(request, image.sha256):
        actual = _sha256_of(image.file_name)
        if actual is not None and actual != image.sha256:
            log.error(
                "image %s: stored original has sha256 %s, recorded %s", pk, actual, image.sha256
            )
            context = {"image": image, "actual": actual}
            return render(request, "gallery/original_mismatch.html", context, status=409)
    return serving.file_response(
        request,
        image.file_name,
        content_type=image.content_type,
        filename=image.download_name,
        etag=image.sha256,
        private=image.is_private,
        attachment="download" in request.GET,
    )


@login_required
@require_GET
def image_thumbnail(request, pk: int, width: int):
    image = access.image_for_viewer(request.user, pk)
    if width == 512:
        name = image.thumbnail.name
    elif width == 256:
        name = image.thumbnail_small.name
    else:
        raise Http404("No thumbnail of that width.")
    if not name:
        # An upload the worker has not processed yet: a placeholder, never cached here.
        response = redirect(static("processing.svg"))
        response["Cache-Control"] = "no-store"
        return response
    return serving.file_response(
        request,
        name,
        content_type="image/webp",
        filename=f"studio-{image.pk}-{width}.webp",
        etag=f"{image.sha256}-{width}",
        private=image.is_private,
    )


def _sha256_of(name: str) -> str | None:
    """The sha256 of a stored file, or None when it is missing (serving answers 404 then)."""
    try:
        handle = media.open_file(name)
    except FileNotFoundError:
        return None
    digest = hashlib.sha256()
    with handle:
        for chunk in handle.chunks():  # Django's File API works for every storage backend
            digest.update(chunk)
    return digest.hexdigest()


@login_required
@require_POST
def image_visibility(request, pk: int):
    """Make one image shared or private (owner or staff; 404 for everyone else)."""
    image = access.image_for_owner(request.user, pk)
    return change_visibility(request, image)


def change_visibility(request, target: Image | Job):
    visibility = request.POST.get("visibility", "")
    if visibility not in Visibility.values:
        context = {"visibility": visibility_control(request.user, target)}
        context["visibility"]["error"] = "Choose shared or private."
        return render(request, "gallery/visibility.html", context, status=form_status(request))
    access.set_visibility(target=target, visibility=visibility)
    if not request.htmx:
        return redirect(target)
    context = {"visibility": {**visibility_control(request.user, target), "saved": True}}
    return render(request, "gallery/visibility.html", context)


def visibility_control(user, target: Image | Job) -> dict:
    """What gallery/visibility.html needs to show (and, for owner or staff, change) who sees
    a job or an image."""
    is_job = isinstance(target, Job)
    name = "gallery:job-visibility" if is_job else "gallery:image-visibility"
    return {
        "target": target,
        "what": "job" if is_job else "image",
        "action": reverse(name, args=[target.pk]),
        "can_change": access.can_change(user, target),
    }
