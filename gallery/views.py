import hashlib
import logging

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, budgets, health, limits, media, services, serving, tasks
from .forms import GenerateForm
from .models import Image, Job, Visibility

log = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    if request.method == "POST":
        form = GenerateForm(request.POST, user=request.user)
        if not form.is_valid():
            return render(
                request,
                "gallery/create.html#generate-form",
                {"form": form},
                status=_form_status(request),
            )
        try:
            limits.check_jobs(request.user, 1)
        except limits.LimitExceeded as refusal:
            form.add_error(None, refusal.message)
            status = 200 if request.htmx else 429
            response = render(
                request, "gallery/create.html#generate-form", {"form": form}, status=status
            )
            response["Retry-After"] = str(refusal.retry_after)
            return response
        try:
            job = services.create_job(owner=request.user, **form.cleaned_data)
        except budgets.OverBudget as refusal:
            form.add_error(None, str(refusal))
            return render(
                request,
                "gallery/create.html#generate-form",
                {"form": form},
                status=_form_status(request),
            )
        tasks.run_job.delay_on_commit(job.pk)
        if not request.htmx:
            return redirect(job)
        again = GenerateForm(
            initial={**_settings_of(job), "visibility": job.visibility, "board": job.board_id},
            user=request.user,
        )
        return render(request, "gallery/create.html#created", {"job": job, "form": again})
    initial = _remix_initial(request) or {}
    if "model" in request.GET:
        initial = {**request.GET.dict(), **initial}
    initial.setdefault("visibility", services.default_visibility(request.user))
    form = GenerateForm(initial=initial, user=request.user)
    if request.htmx and request.htmx.target == "generate-form":
        return render(request, "gallery/create.html#generate-form", {"form": form})
    jobs = Job.objects.filter(owner=request.user).prefetch_related("images")[:10]
    return render(request, "gallery/create.html", {"form": form, "jobs": jobs})


def _form_status(request) -> int:
    # htmx swaps 200 responses; a plain form post gets the honest 400 with the same page.
    return 200 if request.htmx else 400


def _remix_initial(request) -> dict | None:
    image_id = request.GET.get("remix")
    if not image_id or not image_id.isdigit():
        return None
    image = access.visible_images(request.user).filter(pk=image_id).first()
    job = image and access.visible_jobs(request.user).filter(pk=image.job_id).first()
    return _settings_of(job) if job else None


def _settings_of(job: Job) -> dict:
    return {"prompt": job.prompt, "model": job.model, **job.params}


@login_required
@require_GET
def job_detail(request, pk: int):
    # An image can be made private on its own, so the job's images are filtered too.
    images = Prefetch("images", queryset=access.visible_images(request.user))
    job = access.job_for_viewer(
        request.user, pk, Job.objects.prefetch_related(images, "attempt_log")
    )
    if request.htmx:
        return render(request, "gallery/job.html#job-card", {"job": job})
    context = {"job": job, "visibility": _visibility_control(request.user, job)}
    return render(request, "gallery/job.html", context)


@login_required
@require_GET
def image_detail(request, pk: int):
    image = access.image_for_viewer(request.user, pk, Image.objects.select_related("owner", "job"))
    context = {
        "image": image,
        "visibility": _visibility_control(request.user, image),
        # An image can be shared while its job is private: then the job stays hidden.
        "job_visible": image.job is not None
        and access.visible_jobs(request.user).filter(pk=image.job_id).exists(),
    }
    return render(request, "gallery/image.html", context)


@login_required
@require_GET
def image_original(request, pk: int):
    """The original bytes exactly as stored (they carry the C2PA manifest), checked against
    the sha256 recorded at storage so a damaged or swapped file is never passed off as it."""
    image = access.image_for_viewer(request.user, pk)
    if not serving.client_has(request, image.sha256):
        actual = _sha256_of(image.file.name)
        if actual is not None and actual != image.sha256:
            log.error(
                "image %s: stored original has sha256 %s, recorded %s", pk, actual, image.sha256
            )
            context = {"image": image, "actual": actual}
            return render(request, "gallery/original_mismatch.html", context, status=409)
    return serving.file_response(
        request,
        image.file.name,
        content_type=image.content_type,
        filename=f"studio-{image.pk}.{image.extension}",
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
    return _change_visibility(request, image)


@login_required
@require_POST
def job_visibility(request, pk: int):
    """Make a job and all its images shared or private (owner or staff; 404 otherwise)."""
    job = access.job_for_owner(request.user, pk)
    return _change_visibility(request, job)


def _change_visibility(request, target: Image | Job):
    visibility = request.POST.get("visibility", "")
    if visibility not in Visibility.values:
        context = {"visibility": _visibility_control(request.user, target)}
        context["visibility"]["error"] = "Choose shared or private."
        return render(request, "gallery/visibility.html", context, status=_form_status(request))
    services.set_visibility(target=target, visibility=visibility)
    if not request.htmx:
        return redirect(target)
    context = {"visibility": {**_visibility_control(request.user, target), "saved": True}}
    return render(request, "gallery/visibility.html", context)


def _visibility_control(user, target: Image | Job) -> dict:
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


@require_GET
def healthz(request):
    report = health.check()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def csrf_failure(request, reason=""):
    """A missing or stale CSRF token: say what happened and what to do, submit nothing."""
    return render(request, "403_csrf.html", status=403)
