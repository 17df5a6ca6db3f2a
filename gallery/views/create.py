"""The create page: the generation form, its live cost estimate, and "Use these settings"."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gallery import access, accounts, jobs, tasks
from gallery.forms import CUSTOM_SIZE, GenerateForm
from gallery.imagesapi import discovery, registry
from gallery.jobs import limits
from gallery.jobs.refused import Refused
from gallery.models import Job
from gallery.views import form_status


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
                status=form_status(request),
            )
        try:
            with limits.charged(request.user, jobs=1):
                job = jobs.create_job(owner=request.user, **form.cleaned_data)
        except Refused as refusal:
            form.add_error(None, refusal.message)
            # htmx swaps only 200 answers; a plain post gets the refusal's own status.
            status = 200 if request.htmx else refusal.status
            response = render(
                request, "gallery/create.html#generate-form", {"form": form}, status=status
            )
            if refusal.retry_after:
                response["Retry-After"] = str(refusal.retry_after)
            return response
        tasks.run_job.delay_on_commit(job.pk)
        if not request.htmx:
            return redirect(job)
        again = GenerateForm(
            initial={**_settings_of(job), "visibility": job.visibility, "board": job.board_id},
            user=request.user,
        )
        context = {"job": job, "form": again, **_recent_jobs(request.user)}
        return render(request, "gallery/create.html#created", context)
    initial = _remix_initial(request) or {}
    if "model" in request.GET:
        initial = {**request.GET.dict(), **initial}
    initial.setdefault("visibility", accounts.default_visibility(request.user))
    form = GenerateForm(initial=initial, user=request.user)
    if request.htmx and request.htmx.target == "generate-form":
        return render(request, "gallery/create.html#generate-form", {"form": form})
    if request.htmx and request.htmx.target == "jobs":
        return render(request, "gallery/create.html#recent-jobs", _recent_jobs(request.user))
    return render(request, "gallery/create.html", {"form": form, **_recent_jobs(request.user)})


def _recent_jobs(user) -> dict:
    """The person's ten newest jobs, and how often their list asks for news: every second
    while one runs, every 2 s while one waits (or a canceled call may still return), never
    when all are finished."""
    recent = list(
        Job.objects.filter(owner=user).kept().prefetch_related("retries", "attempt_log")[:10]
    )
    changing = ""
    if any(job.status == Job.Status.RUNNING for job in recent):
        changing = "1s"
    elif any(job.may_still_change for job in recent):
        changing = "2s"
    return {"jobs": recent, "changing": changing}


def _remix_initial(request) -> dict | None:
    image_id = access.parse_id(request.GET.get("remix", ""))  # "²" is a digit, not an id
    if image_id is None:
        return None
    image = access.visible_images(request.user).filter(pk=image_id).first()
    if image is None or image.job_id is None:
        return None
    job = access.visible_jobs(request.user).filter(pk=image.job_id).first()
    return _settings_of(job) if job else None


def _settings_of(job: Job) -> dict:
    # Previews are stored only when asked for, so "none" must be said: the form starts at 2.
    return {
        "prompt": job.prompt,
        "model": job.model,
        **job.params,
        "partial_images": job.partial_images,
    }


@login_required
@require_POST
def estimate(request):
    """The expected cost of what the create form currently asks for (htmx partial). A POST:
    the prompt and the CSRF token stay out of URLs and access logs, and a long prompt fits."""
    return render(request, "gallery/create.html#estimate", {"estimate": estimate_for(request.POST)})


def estimate_for(data) -> dict | None:
    """The expected cost of what the create form asks for, and the most it can cost (what
    the budgets hold). Unreadable numbers count as their defaults; a size the model does not
    make counts as its largest standard size."""
    offer = discovery.offer_for(data.get("model", "")) or discovery.default_offer()
    model = offer.model if offer else registry.all_models()[0]
    try:
        n = min(max(int(data.get("n") or 1), 1), 10)
    except ValueError:
        n = 1
    size = data.get("size") or "auto"
    if size == CUSTOM_SIZE:
        size = (data.get("custom_size") or "").strip().lower() or "auto"
    output_format = data.get("output_format") or "png"
    try:
        partials = min(max(int(data.get("partial_images") or 0), 0), 3) if model.streaming else 0
    except ValueError:
        partials = 0
    if output_format in ("gif", "svg"):
        partials = 0
    try:
        frames = min(max(int(data.get("frame_count") or 0), 0), registry.GIF_FRAMES[1]) or None
    except ValueError:
        frames = None
    request = registry.Request(
        prompt=data.get("prompt", ""),
        size=size,
        quality=data.get("quality") or "auto",
        n=n,
        partial_images=partials,
        output_format=output_format,
        frame_count=frames,
    )
    usd, held = model.estimate(request), model.worst_case(request)
    # The amount held is worth a mention only when `auto` makes it differ, not by a prompt token.
    shown = held if held > usd * Decimal("1.05") else None
    return {"usd": usd, "held": shown, "n": n, "model": model, "partials": partials}
