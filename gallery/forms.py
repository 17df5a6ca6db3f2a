from django import forms

from . import registry
from .models import Board, Visibility

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
