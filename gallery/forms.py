from django import forms
from django.conf import settings

from gallery import access
from gallery.imagesapi import registry
from gallery.jobs import uploads
from gallery.models import Board, Visibility

PROMPT_MAX = 32000


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class GenerateForm(forms.Form):
    """What a person may ask for, limited to what the chosen model supports."""

    prompt = forms.CharField(
        label="Prompt",
        max_length=PROMPT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Describe the image you want"}),
        error_messages={"required": "Write a prompt: what should the image show?"},
    )
    model = forms.ChoiceField(label="Model")
    n = forms.IntegerField(
        label="Images",
        min_value=1,
        max_value=10,
        initial=1,
        error_messages={
            "min_value": "Ask for at least 1 image.",
            "max_value": "At most 10 images per request.",
        },
    )
    size = forms.ChoiceField(label="Size")
    quality = forms.ChoiceField(label="Quality")
    background = forms.ChoiceField(label="Background")
    output_format = forms.ChoiceField(
        label="Format", choices=_choices(registry.OUTPUT_FORMATS), initial="png"
    )
    output_compression = forms.IntegerField(
        label="Compression (JPEG/WebP, %)", min_value=0, max_value=100, required=False
    )
    moderation = forms.ChoiceField(
        label="Moderation", choices=_choices(registry.MODERATIONS), initial="auto"
    )
    partial_images = forms.IntegerField(
        label="Previews",
        min_value=0,
        max_value=3,
        initial=2,
        required=False,
        help_text="Partial images streamed while it renders (100 output tokens each).",
        error_messages={
            "min_value": "Previews: 0 to 3.",
            "max_value": "Previews: at most 3 partial images per image.",
        },
    )
    # Empty (a client that does not send it) means the person's default.
    visibility = forms.ChoiceField(
        label="Who sees it",
        choices=Visibility.choices,
        required=False,
        widget=forms.Select,
    )

    # "New images go to board X": only shown to people who have boards.
    board = forms.ChoiceField(label="Put new images on", required=False)

    def __init__(self, *args, model_id: str | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.boards = {
            str(b.pk): b
            for b in (Board.objects.filter(owner=user) if user else Board.objects.none())
        }
        if self.boards:
            self.fields["board"].choices = [("", "No board")] + [
                (pk, b.name) for pk, b in self.boards.items()
            ]
        else:
            del self.fields["board"]
        self.fields["model"].choices = [(m.id, m.label) for m in registry.all_models()]
        chosen = registry.get(model_id or self._bound_model()) or registry.default_model()
        self.image_model = chosen
        self.fields["model"].initial = chosen.id
        self.fields["size"].choices = _choices(chosen.sizes)
        self.fields["size"].initial = "auto" if "auto" in chosen.sizes else chosen.sizes[0]
        self.fields["quality"].choices = _choices(chosen.qualities)
        self.fields["quality"].initial = (
            "auto" if "auto" in chosen.qualities else chosen.qualities[0]
        )
        self.fields["background"].choices = _choices(chosen.backgrounds)
        self.fields["background"].initial = "auto"
        if not chosen.streaming:
            del self.fields["partial_images"]
        for name, what in (("size", "size"), ("quality", "quality"), ("background", "background")):
            allowed = ", ".join(value for value, _ in self.fields[name].choices)
            self.fields[name].error_messages["invalid_choice"] = (
                f"%(value)s is not a {what} {chosen.label} supports. Choose one of: {allowed}."
            )

    def _bound_model(self) -> str | None:
        if self.is_bound:
            return self.data.get("model")
        return self.initial.get("model")

    def clean_model(self) -> str:
        model_id = self.cleaned_data["model"]
        if registry.get(model_id) is None:
            raise forms.ValidationError(
                f"Unknown model. Configured models: {', '.join(registry.model_ids())}."
            )
        return model_id

    def clean_board(self) -> Board | None:
        return self.boards.get(self.cleaned_data.get("board") or "")

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"].strip()
        if not prompt:
            raise forms.ValidationError("Write a prompt: what should the image show?")
        return prompt

    def clean(self):
        data = super().clean()
        if data.get("background") == "transparent" and data.get("output_format") == "jpeg":
            self.add_error("background", "A transparent background needs PNG or WebP, not JPEG.")
        if data.get("output_format") == "png":
            data["output_compression"] = None
        if "partial_images" in self.fields and data.get("partial_images") is None:
            data["partial_images"] = 0
        data["visibility"] = data.get("visibility") or None
        return data


class PreferencesForm(forms.Form):
    default_visibility = forms.ChoiceField(
        label="Who sees my new images",
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        help_text="Applies to new jobs and uploads; you can still choose per job, and change "
        "an image or job later on its page.",
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text='Where it is used, e.g. "notebook" or "Open WebUI".',
        error_messages={"required": "Name the token: where will it be used?"},
    )
    days = forms.TypedChoiceField(
        label="Expires",
        choices=[("30", "in 30 days"), ("90", "in 90 days"), ("365", "in a year"), ("", "never")],
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name or "\x00" in name:
            raise forms.ValidationError("Name the token with printable text.")
        return name


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
