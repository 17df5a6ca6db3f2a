import hashlib
import logging

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import health, media, services, tasks
from .forms import GenerateForm
from .models import Image, Job

log = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    if request.method == "POST":
        form = GenerateForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "gallery/create.html#generate-form",
                {"form": form},
                status=_form_status(request),
            )
        job = services.create_job(owner=request.user, **form.cleaned_data)
        tasks.run_job.delay_on_commit(job.pk)
        if not request.htmx:
            return redirect(job)
        return render(
            request,
            "gallery/create.html#created",
            {"job": job, "form": GenerateForm(initial=_settings_of(job))},
        )
    initial = _remix_initial(request) or {}
    if "model" in request.GET:
        initial = {**request.GET.dict(), **initial}
    form = GenerateForm(initial=initial)
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
    image = Image.objects.filter(pk=image_id).select_related("job").first()
    if image is None or image.job is None:
        return None
    return _settings_of(image.job)


def _settings_of(job: Job) -> dict:
    return {"prompt": job.prompt, "model": job.model, **job.params}


@login_required
@require_GET
def job_detail(request, pk: int):
    job = get_object_or_404(Job.objects.prefetch_related("images", "attempt_log"), pk=pk)
    if request.htmx:
        return render(request, "gallery/job.html#job-card", {"job": job})
    return render(request, "gallery/job.html", {"job": job})


@login_required
@require_GET
def image_detail(request, pk: int):
    image = get_object_or_404(Image.objects.select_related("owner", "job"), pk=pk)
    return render(request, "gallery/image.html", {"image": image})


@login_required
@require_GET
def image_original(request, pk: int):
    """The original bytes exactly as stored (they carry the C2PA manifest), checked against
    the sha256 recorded at storage so a damaged or swapped file is never passed off as it."""
    image = get_object_or_404(Image, pk=pk)
    actual = _sha256_of(image.file.name)
    if actual is not None and actual != image.sha256:
        log.error("image %s: stored original has sha256 %s, recorded %s", pk, actual, image.sha256)
        context = {"image": image, "actual": actual}
        return render(request, "gallery/original_mismatch.html", context, status=409)
    return _serve(
        image.file.name,
        image.content_type,
        f"studio-{image.pk}.{image.extension}",
        attachment="download" in request.GET,
    )


@login_required
@require_GET
def image_thumbnail(request, pk: int, width: int):
    image = get_object_or_404(Image, pk=pk)
    if width == 512:
        name = image.thumbnail.name
    elif width == 256:
        name = image.thumbnail_small.name
    else:
        raise Http404("No thumbnail of that width.")
    return _serve(name, "image/webp", f"studio-{image.pk}-{width}.webp")


def _sha256_of(name: str) -> str | None:
    """The sha256 of a stored file, or None when it is missing (_serve answers 404 then)."""
    try:
        handle = media.open_file(name)
    except FileNotFoundError:
        return None
    digest = hashlib.sha256()
    with handle:
        for chunk in handle.chunks():  # Django's File API works for every storage backend
            digest.update(chunk)
    return digest.hexdigest()


def _serve(name: str, content_type: str, filename: str, attachment: bool = False) -> FileResponse:
    try:
        handle = media.open_file(name)
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle, content_type=content_type, as_attachment=attachment, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@require_GET
def healthz(request):
    report = health.check()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def csrf_failure(request, reason=""):
    """A missing or stale CSRF token: say what happened and what to do, submit nothing."""
    return render(request, "403_csrf.html", status=403)
