"""The edit page, uploads for it, and the lineage of an image."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import edits, lineage, registry, tasks, uploads
from .edit_forms import EditForm, is_id
from .models import Image, Job

PICKER_SIZE = 24


def visible_images(user):
    """The images `user` may see and use as inputs."""
    return Image.objects.filter(Q(owner=user) | ~Q(source=Image.Source.UPLOAD))


@login_required
@require_http_methods(["GET", "POST"])
def edit(request):
    visible = visible_images(request.user)
    if request.method == "POST":
        form = EditForm(request.POST, request.FILES, visible_images=visible)
        job = None
        if form.is_valid():
            try:
                job = edits.create_edit_job(owner=request.user, **form.cleaned_data)
            except edits.EditRefused as error:
                form.add_error(None, str(error))
        if job is None:
            if request.htmx:
                return render(request, "gallery/edit.html#errors", {"form": form}, status=400)
            return render(request, "gallery/edit.html", _page(request, form, visible), status=400)
        tasks.run_job.delay_on_commit(job.pk)
        if not request.htmx:
            return redirect(job)
        return render(request, "gallery/edit.html#created", {"job": job})
    model_id = request.GET.get("model")
    form = EditForm(initial={"model": model_id} if model_id else None, visible_images=visible)
    if request.htmx and request.htmx.target == "edit-options":
        return render(request, "gallery/edit.html#options", {"form": form})
    return render(request, "gallery/edit.html", _page(request, form, visible))


def _page(request, form, visible) -> dict:
    wanted = [int(v) for v in request.GET.getlist("image") if is_id(v)][:16]
    found = {i.pk: i for i in visible.filter(pk__in=wanted)}
    return {
        "form": form,
        "inputs": [found[pk] for pk in wanted if pk in found],
        "picker": visible.filter(owner=request.user).exclude(source=Image.Source.COMPOSITE)[
            :PICKER_SIZE
        ],
        "jobs": Job.objects.filter(owner=request.user, kind=Job.Kind.EDIT).prefetch_related(
            "images"
        )[:10],
        "max_inputs": max(m.max_input_images for m in registry.all_models()),
    }


@login_required
@require_POST
def upload(request):
    """One file from the edit page, stored as an upload Image; JSON for edit.js."""
    files = request.FILES.getlist("file")
    if len(files) != 1:
        return JsonResponse({"error": "Send exactly one file."}, status=400)
    sent = files[0]
    try:
        checked = uploads.check(sent.read(), name=sent.name, declared_type=sent.content_type)
    except uploads.UploadRefused as error:
        return JsonResponse({"error": str(error)}, status=400)
    image = uploads.store_upload(owner=request.user, upload=checked)
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
def image_lineage(request, pk: int):
    image = get_object_or_404(visible_images(request.user), pk=pk)
    tree = lineage.tree(image, visible_images(request.user))
    current = lineage.Node(image, "")
    return render(request, "gallery/lineage.html", {"image": image, "current": current, **tree})
