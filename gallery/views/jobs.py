"""A job's page and card, the queue panel, cancel and retry, and streamed previews."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from gallery import access, jobs, media, tasks
from gallery.jobs import budgets, limits
from gallery.jobs.refused import Refused
from gallery.media import serving
from gallery.models import Job
from gallery.views.images import change_visibility, visibility_control
from studio import health

RECENT = 20


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
    context = {"job": job, "visibility": visibility_control(request.user, job)}
    return render(request, "gallery/job.html", context)


@login_required
@require_POST
def job_visibility(request, pk: int):
    """Make a job and all its images shared or private (owner or staff; 404 otherwise)."""
    job = access.job_for_owner(request.user, pk)
    return change_visibility(request, job)


@login_required
@require_GET
def queue(request):
    everyone = request.user.is_staff and request.GET.get("who") != "me"
    shown = Job.objects.all() if everyone else Job.objects.filter(owner=request.user)
    shown = shown.select_related("owner").kept()
    context = {
        "everyone": everyone,
        "active": shown.unfinished().order_by("created_at", "id"),
        "finished": shown.exclude(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])[:RECENT],
        "standing": budgets.person_standing(request.user),
    }
    if everyone:
        context |= {
            "api": health.api_activity(),
            "studio": budgets.studio_standing(),
            "near_limit": budgets.near_limit(),
        }
    return render(request, "gallery/queue.html", context)


@login_required
@require_POST
def job_cancel(request, pk: int):
    job = access.job_for_owner(request.user, pk)
    jobs.cancel_job(job, by=request.user)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "gallery/job.html#job-card", {"job": job})
    return redirect(job)


@login_required
@require_POST
def job_retry(request, pk: int):
    job = access.job_for_owner(request.user, pk)
    try:
        with limits.charged(request.user, jobs=1):
            retry = jobs.retry_job(job, by=request.user, model=request.POST.get("model") or None)
    except Refused as refusal:
        context = {"job": job, "refusal": refusal.message}
        if request.htmx:
            return render(request, "gallery/job.html#job-card", context)
        return render(request, "gallery/job.html", context, status=400)
    tasks.run_job.delay_on_commit(retry.pk)
    if request.htmx:
        return render(request, "gallery/job.html#retried", {"job": job, "retry": retry})
    return redirect(retry)


@login_required
@require_GET
def job_partial(request, pk: int):
    """The job's latest streamed preview (a derived file), while it is running."""
    job = access.job_for_viewer(request.user, pk)
    if not job.partial_file:
        raise Http404("This job has no preview (it has finished or not started streaming).")
    try:
        handle = media.open_file(job.partial_file)
    except FileNotFoundError:
        raise Http404("The preview was replaced by a newer one.") from None
    content_type = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}.get(
        job.partial_file.rsplit(".", 1)[-1], "application/octet-stream"
    )
    response = serving.harden(FileResponse(handle, content_type=content_type))
    # The URL names the preview file, so a browser may keep it while the card re-renders.
    response["Cache-Control"] = "private, max-age=300"
    return response
