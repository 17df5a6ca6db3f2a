"""Pages for Content Credentials: the Verify page, a stored image's raw manifest and the
thumbnails its manifest carries for ingredients.

Page views show what the worker stored (Image.provenance); only the Verify page reads C2PA in
the request (the one exception DESIGN.md allows), and the ingredient-thumbnail image endpoint
extracts a thumbnail from the stored original on demand.
"""

import logging

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery import access, accounts, media, provenance, tasks, units
from gallery.jobs import limits
from gallery.media import serving, untrusted
from gallery.models import Image, Visibility
from gallery.provenance import verification

log = logging.getLogger(__name__)

SESSION_KEY = "verify_pending"
PENDING_PER_SESSION = 5


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Image file",
        error_messages={
            "required": "Choose an image file to check.",
            "empty": "The file is empty: there is nothing to check.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.STUDIO_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {units.file_size(upload.size)}; "
                f"the limit is {units.file_size(limit)}."
            )
        data = upload.read()
        mime = verification.sniff(data)
        if mime is None:
            raise forms.ValidationError(
                "This file is not an image the studio recognises (its content is not "
                f"{verification.ACCEPTED_NAMES}), whatever its name says."
            )
        self.data_bytes, self.mime = data, mime
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    if request.method == "GET":
        return _verify_page(request, {"form": VerifyForm()})
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _verify_page(request, {"form": form}, status=400)
    try:
        limits.check_uploads(request.user, 1)
    except limits.LimitExceeded as refusal:
        context = {"form": VerifyForm(), "expired": refusal.message}
        response = _verify_page(request, context, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    result = verification.check(
        form.data_bytes, filename=form.cleaned_data["file"].name, mime=form.mime
    )
    token = None
    if not result.not_addable:
        token = verification.stash(form.data_bytes)
        pending = [token, *request.session.get(SESSION_KEY, [])]
        for dropped in pending[PENDING_PER_SESSION:]:
            verification.forget(dropped)  # no longer offered: nothing waits for it
        request.session[SESSION_KEY] = pending[:PENDING_PER_SESSION]
    return _verify_page(request, {"form": VerifyForm(), "result": result, "token": token})


@login_required
@require_POST
def verify_add(request):
    token = request.POST.get("token", "")
    pending = request.session.get(SESSION_KEY, [])
    data = verification.take(token) if token in pending else None
    if data is None:
        message = (
            "That upload is no longer waiting to be added (uploads wait an hour). Upload it again."
        )
        return _verify_page(request, {"form": VerifyForm(), "expired": message}, status=400)
    request.session[SESSION_KEY] = [t for t in pending if t != token]
    visibility = request.POST.get("visibility")
    if visibility not in Visibility.values:
        visibility = None  # the person's default
    try:
        image = verification.add_to_gallery(owner=request.user, data=data, visibility=visibility)
    except media.NotAnImage as error:
        message = f"It could not be added: {error}"
        return _verify_page(request, {"form": VerifyForm(), "expired": message}, status=400)
    tasks.finish_upload.delay_on_commit(image.pk)
    return redirect(image)


def _verify_page(request, context: dict, status: int = 200):
    context["upload_max_bytes"] = settings.STUDIO_UPLOAD_MAX_BYTES
    context["default_visibility"] = accounts.default_visibility(request.user)
    context["legacy_list"] = bool(settings.C2PA_LEGACY_TRUST_ANCHOR_FILES)
    if request.htmx and request.htmx.target == "verify":
        # A file dropped or picked with JavaScript on: the page's main region, swapped in
        # place (htmx swaps only 200 answers; the message says what went wrong).
        response = render(request, "gallery/verify.html#verify", context)
    else:
        response = render(request, "gallery/verify.html", context, status=status)
    # The answer shows someone's upload: no cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def image_manifest(request, pk: int):
    """The stored manifest-store JSON: a <pre> for the panel (htmx), raw JSON otherwise."""
    image = access.image_for_viewer(
        request.user, pk, Image.objects.only("pk", "owner_id", "visibility", "manifest_json")
    )
    if request.htmx:
        return render(
            request,
            "gallery/provenance_panel.html#raw-json",
            {"manifest_json": image.manifest_json},
        )
    if not image.manifest_json:
        raise Http404("This image has no Content Credentials.")
    return serving.harden(HttpResponse(image.manifest_json, content_type="application/json"))


@login_required
@require_GET
def ingredient_thumbnail(request, pk: int, path: str):
    """The thumbnail an ingredient's manifest entry carries, taken from the stored original
    and drawn again as a WebP: the manifest is outside input, so neither its bytes nor the
    type it declares (an SVG with a script, "image/png, text/javascript") reach the browser."""
    try:
        indexes = tuple(int(part) for part in path.split("."))
    except ValueError:
        raise Http404("No such ingredient.") from None
    image = access.image_for_viewer(request.user, pk)
    try:
        data = media.read(image.file_name)
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    found = provenance.ingredient_thumbnail(data, indexes, mime=image.content_type)
    picture = untrusted.redraw(found[0]) if found else None
    if picture is None:
        raise Http404("That ingredient carries no thumbnail the studio can show.")
    response = serving.harden(HttpResponse(picture, content_type="image/webp"))
    # The original is content-addressed and never rewritten, so neither is this.
    response["Cache-Control"] = serving.PRIVATE_CACHE if image.is_private else serving.SHARED_CACHE
    return response
