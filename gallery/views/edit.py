"""The edit page, uploads for it, and the lineage of an image."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery import access, accounts, tasks
from gallery.browse import lineage
from gallery.forms import EditForm
from gallery.imagesapi import registry
from gallery.jobs import edits, limits, pending_uploads, uploads
from gallery.jobs.refused import Refused
from gallery.media import serving
from gallery.models import Image, Job

PICKER_SIZE = 24


@login_required
@require_http_methods(["GET", "POST"])
def edit(request):
    visible = access.visible_images(request.user)
    if request.method == "POST":
        form = EditForm(request.POST, request.FILES, visible_images=visible)
        job, status, retry_after = None, 400, None
        if form.is_valid():
            try:
                sent = len(request.FILES.getlist("uploads"))
                with limits.charged(request.user, jobs=1, uploads=sent):
                    job = edits.create_edit_job(owner=request.user, **form.cleaned_data)
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status, retry_after = refusal.status, refusal.retry_after
        if job is None:
            if request.htmx:
                response = render(
                    request, "gallery/edit.html#errors", {"form": form}, status=status
                )
            else:
                context = _page(request, form, visible)
                response = render(request, "gallery/edit.html", context, status=status)
            if retry_after:
                response["Retry-After"] = str(retry_after)
            return response
        tasks.run_job.delay_on_commit(job.pk)
        for image_id in uploads.unfinished_inputs(job):
            tasks.finish_upload.delay_on_commit(image_id)
        if not request.htmx:
            return redirect(job)
        return render(request, "gallery/edit.html#created", {"job": job})
    initial = {"visibility": accounts.default_visibility(request.user)}
    remix = _remix(request, visible)
    if remix is not None:
        initial.update(remix.settings)
    if request.GET.get("model"):
        initial["model"] = request.GET["model"]
    form = EditForm(initial=initial, visible_images=visible)
    if request.htmx and request.htmx.target == "edit-options":
        return render(request, "gallery/edit.html#options", {"form": form})
    return render(request, "gallery/edit.html", _page(request, form, visible, remix))


def _remix(request, visible) -> edits.Remix | None:
    """ "Use these settings" on an edit's image (?remix=<image id>): that edit's inputs, mask
    and options, as far as the viewer may see them."""
    image_id = access.parse_id(request.GET.get("remix", ""))
    if image_id is None:
        return None
    image = visible.filter(pk=image_id).only("job_id").first()
    if image is None or image.job_id is None:
        return None
    job = access.visible_jobs(request.user).filter(pk=image.job_id, kind=Job.Kind.EDIT).first()
    return edits.remix(job, visible=visible) if job else None


def _page(request, form, visible, remix: edits.Remix | None = None) -> dict:
    if remix is not None:
        inputs = remix.inputs
    else:
        ids = map(access.parse_id, request.GET.getlist("image"))
        wanted = [pk for pk in ids if pk is not None][:16]
        found = {i.pk: i for i in visible.filter(pk__in=wanted)}
        inputs = [found[pk] for pk in wanted if pk in found]
    return {
        "form": form,
        "inputs": inputs,
        "remix": remix,
        # Composites ("keep unmasked pixels") are images like any other: they can be edited.
        "picker": visible.filter(owner=request.user)[:PICKER_SIZE],
        "jobs": Job.objects.filter(owner=request.user, kind=Job.Kind.EDIT).kept()[:10],
        "max_inputs": max(m.max_input_images for m in registry.all_models()),
    }


@login_required
@require_POST
def upload(request):
    """One file picked on the edit page, stored as a pending upload Image (private to its
    owner until an edit uses it); JSON for edit.js."""
    files = request.FILES.getlist("file")
    if len(files) != 1:
        return JsonResponse({"error": "Send exactly one file."}, status=400)
    sent = files[0]
    try:
        checked = uploads.check(sent.read(), name=sent.name, declared_type=sent.content_type)
        with limits.charged(request.user, uploads=1):
            # Private until an edit that uses it is submitted with the form's visibility.
            image = pending_uploads.stage(owner=request.user, upload=checked)
    except Refused as refusal:
        response = JsonResponse({"error": refusal.message}, status=refusal.status)
        if refusal.retry_after:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    if image.provenance_state == Image.Provenance.PENDING:
        tasks.finish_upload.delay_on_commit(image.pk)
    return JsonResponse(
        {
            "id": image.pk,
            "name": sent.name,
            "thumbnail": reverse("gallery:image-thumbnail", args=[image.pk, 256]),
            "original": reverse("gallery:image-original", args=[image.pk]),
            "width": checked.width,
            "height": checked.height,
        }
    )


@login_required
@require_GET
def job_layer(request, pk: int, layer: str):
    """An edit job's mask or markup layer as it was sent, for "Use these settings" to paint
    it again; only for people who may see the job."""
    job = access.job_for_viewer(request.user, pk)
    name = (job.mask if layer == "mask" else job.markup).name
    if not name:
        raise Http404("This edit has no such layer.")
    return serving.file_response(
        request,
        name,
        content_type="image/png",
        filename=f"job-{job.pk}-{layer}.png",
        etag=f"job-{job.pk}-{layer}-{name.rsplit('/', 1)[-1]}",
        private=job.is_private,
    )


@login_required
@require_GET
def image_lineage(request, pk: int):
    image = access.image_for_viewer(request.user, pk)
    tree = lineage.tree(image, access.visible_images(request.user))
    current = lineage.Node(image, "")
    return render(request, "gallery/lineage.html", {"image": image, "current": current, **tree})
