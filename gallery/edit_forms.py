from django import forms
from django.conf import settings

from . import access, uploads
from .forms import GenerateForm

FIDELITIES = [("", "Model default"), ("low", "Low"), ("high", "High")]


class EditForm(GenerateForm):
    """An edit: the generation options the model supports for edits, the ordered inputs (ids
    of gallery images, then uploaded files), an optional mask and "keep unmasked pixels".

    Uploaded files are checked by content here; nothing is stored until every check passed.
    `images` in cleaned_data is the ordered list of Images and uploads.CheckedUpload."""

    moderation = None  # /images/edits has no moderation parameter
    input_fidelity = forms.ChoiceField(
        label="Input fidelity", choices=FIDELITIES, required=False, initial=""
    )
    keep_unmasked = forms.BooleanField(label="Keep unmasked pixels", required=False)

    def __init__(self, *args, visible_images=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Streamed previews are wired for generations only (edits.run_edit does not stream yet).
        self.fields.pop("partial_images", None)
        self.visible_images = visible_images
        self.fields["n"].label = "Results"
        if not self.image_model.input_fidelity:
            del self.fields["input_fidelity"]

    def clean(self):
        data = super().clean()
        images: list = []
        ids = self.data.getlist("image_ids") if self.is_bound else []
        wanted = [pk for pk in map(access.parse_id, ids) if pk is not None]
        if len(wanted) != len(ids):
            self.add_error(None, "An image reference was not understood; add the image again.")
        found = {i.pk: i for i in self.visible_images.filter(pk__in=wanted)} if wanted else {}
        for pk in wanted:
            if pk not in found:
                self.add_error(None, f"Image {pk} is not available to you; remove it.")
            else:
                images.append(found[pk])
        for upload in self.files.getlist("uploads") if self.files else []:
            try:
                images.append(
                    uploads.check(
                        upload.read(), name=upload.name, declared_type=upload.content_type
                    )
                )
            except uploads.UploadRefused as error:
                self.add_error(None, str(error))
        limit = self.image_model.max_input_images
        if len(images) > limit:
            self.add_error(
                None,
                f"{self.image_model.label} takes at most {limit} images; you added "
                f"{len(images)}. Remove {len(images) - limit}.",
            )
        elif not images and not self.errors:
            self.add_error(None, "Add at least one image to edit.")
        data["images"] = images
        mask = self.files.get("mask") if self.files else None
        data["mask"] = None
        if mask is not None:
            if mask.size > settings.UPLOAD_MAX_BYTES:
                self.add_error(None, "The mask file is larger than the upload limit.")
            else:
                data["mask"] = mask.read()
        data["input_fidelity"] = data.get("input_fidelity") or None
        return data
