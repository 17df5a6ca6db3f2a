from django import forms
from django.conf import settings

from gallery import access, units
from gallery.imagesapi import discovery, registry
from gallery.jobs import uploads
from gallery.models import Board, Visibility

PROMPT_MAX = 32000


CUSTOM_SIZE = "custom"
QUALITY_LABELS = {"xhigh": "xhigh (extra high)", "max": "max (highest)"}


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class ModelChoiceField(forms.ChoiceField):
    """The offered models as choices; a model that is not offered is refused by the form's
    clean_model, which says why (shut down, or not usable with this key)."""

    def validate(self, value):
        forms.Field.validate(self, value)


class GenerateForm(forms.Form):
    """What a person may ask for, limited to what the chosen model supports."""

    prompt = forms.CharField(
        label="Prompt",
        max_length=PROMPT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Describe the image you want"}),
        error_messages={"required": "Write a prompt: what should the image show?"},
    )
    model = ModelChoiceField(label="Model")
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
    custom_size = forms.CharField(
        label="Custom size (WxH)",
        required=False,
        max_length=11,
        widget=forms.TextInput(attrs={"placeholder": "e.g. 1536x864", "inputmode": "text"}),
        help_text="With Size “custom”: edges multiples of 16, at most 3840 px, ratio up to 3:1.",
    )
    quality = forms.ChoiceField(label="Quality")
    complexity = forms.ChoiceField(label="Complexity", required=False)
    background = forms.ChoiceField(label="Background")
    output_format = forms.ChoiceField(label="Format", initial="png")
    frame_count = forms.IntegerField(
        label="GIF frames",
        min_value=registry.GIF_FRAMES[0],
        max_value=registry.GIF_FRAMES[1],
        required=False,
        help_text="GIF output only: 2 to 16 (9 when empty).",
    )
    frame_duration_ms = forms.IntegerField(
        label="GIF frame duration (ms)",
        min_value=10,
        max_value=655_350,
        required=False,
        help_text="GIF output only (200 ms when empty).",
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
            board = self.fields["board"]
            assert isinstance(board, forms.ChoiceField)  # declared above
            board.choices = [("", "No board")] + [(pk, b.name) for pk, b in self.boards.items()]
        else:
            del self.fields["board"]
        self.offers = discovery.offers()
        self._choose("model", [(o.id, o.label) for o in self.offers])
        wanted = model_id or self._bound_model() or ""
        offer = discovery.offer_for(wanted, self.offers) or discovery.default_offer(self.offers)
        chosen = offer.model if offer else (registry.get(wanted) or registry.all_models()[0])
        self.image_model = chosen
        self.model_id = offer.id if offer else chosen.id
        self.fields["model"].initial = self.model_id
        self._set_sizes(chosen)
        self._choose("quality", [(q, QUALITY_LABELS.get(q, q)) for q in chosen.qualities])
        self.fields["quality"].initial = (
            "auto" if "auto" in chosen.qualities else chosen.qualities[0]
        )
        if chosen.complexities:
            self._choose("complexity", [("", "Model default"), *_choices(chosen.complexities)])
        else:
            del self.fields["complexity"]
        self._choose("background", _choices(chosen.backgrounds))
        self.fields["background"].initial = "auto"
        self._choose("output_format", _choices(self._formats(chosen)))
        self.fields["output_format"].help_text = "; ".join(chosen.format_rules.values())
        if "gif" not in chosen.output_formats:
            del self.fields["frame_count"], self.fields["frame_duration_ms"]
        if not chosen.streaming:
            del self.fields["partial_images"]
        for name, what in (
            ("size", "size"),
            ("quality", "quality"),
            ("background", "background"),
            ("output_format", "format"),
        ):
            allowed = ", ".join(value for value, _ in self._choices_of(name))
            self.fields[name].error_messages["invalid_choice"] = (
                f"%(value)s is not a {what} {chosen.label} supports. Choose one of: {allowed}."
            )

    def _formats(self, model: registry.ImageModel) -> list[str]:
        return model.output_formats

    def _choose(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def _choices_of(self, name: str) -> list[tuple[str, str]]:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return list(field.choices)  # type: ignore[arg-type]

    def _set_sizes(self, model: registry.ImageModel) -> None:
        """Presets, and for the models with free sizes "custom" plus any WxH already asked
        for (a remix, "Use these settings", or a client that posts one)."""
        sizes = list(model.sizes)
        if model.free_sizes:
            asked = self.data.get("size") if self.is_bound else self.initial.get("size")
            if asked and asked not in sizes and registry.parse_size(str(asked)):
                sizes.append(str(asked))  # clean() says what is wrong with it, if anything
            sizes.append(CUSTOM_SIZE)
        else:
            del self.fields["custom_size"]
        self._choose("size", [(size, units.size_label(size)) for size in sizes])
        self.fields["size"].initial = "auto" if "auto" in sizes else sizes[0]

    def _bound_model(self) -> str | None:
        if self.is_bound:
            return self.data.get("model")
        return self.initial.get("model")

    def clean_model(self) -> str:
        model_id = self.cleaned_data["model"]
        reason = discovery.unavailable_reason(model_id)
        if reason:
            offered = ", ".join(o.id for o in self.offers) or "none"
            raise forms.ValidationError(f"{reason} Models you can use: {offered}.")
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
        model = self.image_model
        output_format = data.get("output_format") or "png"
        self._clean_size(data, model, output_format)
        if data.get("background") == "transparent" and output_format == "jpeg":
            self.add_error("background", "A transparent background needs PNG or WebP, not JPEG.")
        if output_format not in ("jpeg", "webp"):
            data["output_compression"] = None
        if "partial_images" in self.fields and data.get("partial_images") is None:
            data["partial_images"] = 0
        if output_format in ("gif", "svg"):
            data["partial_images"] = 0  # neither format streams
        if output_format == "svg" and (data.get("n") or 1) > 1:
            self.add_error("n", "SVG output makes one image per request.")
        if output_format != "gif":
            data["frame_count"] = data["frame_duration_ms"] = None
        data.setdefault("frame_count", None)
        data.setdefault("frame_duration_ms", None)
        data["complexity"] = data.get("complexity") or None
        data.pop("custom_size", None)
        data["visibility"] = data.get("visibility") or None
        return data

    def _clean_size(self, data: dict, model: registry.ImageModel, output_format: str) -> None:
        size = data.get("size")
        if size == CUSTOM_SIZE:
            size = (data.get("custom_size") or "").strip().lower().replace(" ", "")
            if not size:
                self.add_error("custom_size", "Write the size, for example 1536x864.")
                return
        if size:
            problem = model.size_problem(size, output_format=output_format)
            if problem:
                self.add_error("custom_size" if "custom_size" in self.fields else "size", problem)
                return
            data["size"] = size


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

    # /images/edits has no moderation parameter. None removes an inherited declared field
    # (Django's documented idiom), which django-stubs does not model.
    moderation = None  # type: ignore[assignment]
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

    def _formats(self, model: registry.ImageModel) -> list[str]:
        return [f for f in model.output_formats if f != "svg"]  # SVG is for generations

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
            if mask.size > settings.STUDIO_UPLOAD_MAX_BYTES:
                self.add_error(None, "The mask file is larger than the upload limit.")
            else:
                data["mask"] = mask.read()
        markup = self.files.get("markup") if self.files else None
        data["markup"] = None
        if markup is not None:
            if not self.image_model.markup:
                self.add_error(None, f"{self.image_model.label} takes no markup layer.")
            elif markup.size > settings.STUDIO_UPLOAD_MAX_BYTES:
                self.add_error(None, "The markup file is larger than the upload limit.")
            else:
                data["markup"] = markup.read()
        data["input_fidelity"] = data.get("input_fidelity") or None
        return data
