"""A job's page and card, the queue panel, cancel and retry, and streamed previews."""

from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, jobs, media, tasks
from gallery.jobs import budgets, limits
from gallery.jobs.refused import Refused
from gallery.media import serving
from gallery.models import Job
from gallery.views.images import change_visibility, visibility_control
from studio import health

RECENT = 20
# What a job card shows besides the job itself: its retries ("Open retry") and its attempts
# (whether a canceled call is still in flight, and the job page's table).
CARD_EXTRAS = ("retries", "attempt_log")


def _with_card_extras(request, queryset):
    # An image can be made private on its own, so the job's images are filtered too.
    images = Prefetch("images", queryset=access.visible_images(request.user))
    return queryset.prefetch_related(images, *CARD_EXTRAS)


def _card(request, job: Job, template: str = "gallery/job.html#job-card", **context):
    """A job card as the page that asked for it shows it: on the job's own page the card
    carries the attempts table; on the queue and create pages the page's list refreshes
    every card, so a card does not poll on its own there."""
    page = urlsplit((request.htmx and request.htmx.current_url_abs_path) or "").path
    context |= {
        "job": job,
        "detail": page == job.get_absolute_url(),
        "in_list": page in (reverse("gallery:queue"), reverse("gallery:create")),
    }
    return render(request, template, context)


@login_required
@require_GET
def job_detail(request, pk: int):
    job = access.job_for_viewer(request.user, pk, _with_card_extras(request, Job.objects))
    if request.htmx:
        return _card(request, job)
    context = {"job": job, "detail": True, "visibility": visibility_control(request.user, job)}
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
    # Not .kept(): the card's own prefetch (visible images) already leaves trashed ones out.
    shown = _with_card_extras(request, shown.select_related("owner").filter(trashed_at=None))
    active = list(shown.unfinished().order_by("created_at", "id"))
    finished = list(shown.exclude(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])[:RECENT])
    context = {
        "everyone": everyone,
        "active": active,
        "finished": finished,
        "changing": bool(active) or any(job.may_still_change for job in finished),
        "standing": budgets.person_standing(request.user),
    }
    if everyone:
        context |= {
            "api": health.api_activity(),
            "studio": budgets.studio_standing(),
            "near_limit": budgets.near_limit(),
        }
    if request.htmx:
        return render(request, "gallery/queue.html#queue-jobs", context)
    return render(request, "gallery/queue.html", context)


@login_required
@require_POST
def job_cancel(request, pk: int):
    job = access.job_for_owner(request.user, pk)
    jobs.cancel_job(job, by=request.user)
    if request.htmx:
        return _card(request, _with_card_extras(request, Job.objects).get(pk=job.pk))
    return redirect(job)


@login_required
@require_POST
def job_retry(request, pk: int):
    job = access.job_for_owner(request.user, pk, _with_card_extras(request, Job.objects))
    if job.latest_retry:
        # Retried already (a second click, or a stale page): open that retry rather than
        # paying for the same job twice.
        return _card(request, job) if request.htmx else redirect(job.latest_retry)
    try:
        with limits.charged(request.user, jobs=1):
            retry = jobs.retry_job(job, by=request.user, model=request.POST.get("model") or None)
    except Refused as refusal:
        if request.htmx:
            return _card(request, job, refusal=refusal.message)
        context = {"job": job, "detail": True, "refusal": refusal.message}
        return render(request, "gallery/job.html", context, status=400)
    tasks.run_job.delay_on_commit(retry.pk)
    if request.htmx:
        job = _with_card_extras(request, Job.objects).get(pk=job.pk)
        return _card(request, job, "gallery/job.html#retried", retry=retry)
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
