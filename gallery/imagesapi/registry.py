"""The image models the studio knows, as configuration: what each accepts and what it costs.

Each model says what it accepts (size presets and, from gpt-image-2 on, free WxH sizes;
qualities; complexity; output formats with their rules; backgrounds; markup) and what its
tokens cost. The built-in table below follows the official `openai` SDK's image types and
OpenAI's published prices (USD per million tokens); a JSON file named by STUDIO_MODELS_FILE
replaces it (same shape: a list of model objects), which is how a new model id is configured
without code; STUDIO_PRICES_FILE, a JSON object of per-model prices
({"gpt-image-2": {"image_output": "32.00"}}), overrides just the prices, which is how a
gateway's prices (CometAPI's differ) are configured.

Which of these models a person is offered for a new job is `offered_models()`: what the API
key can use (discovery, gallery/imagesapi/discovery.py) or, where the API does not say,
every configured model that has not been shut down (against OpenAI itself; a gateway may
still route retired models, so against a gateway every configured model).

Estimates: `ImageModel.estimate` is what a request is expected to cost (shown on the form and
the job); `ImageModel.worst_case` is the most it can cost (held against the budgets), with
`auto` taken as the dearest value the API may choose for it and every prompt byte a token.
"""

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

STANDARD_SIZES = ["1024x1024", "1536x1024", "1024x1536"]
GPT_SIZES = ["auto", *STANDARD_SIZES]
GPT_QUALITIES = ["auto", "low", "medium", "high"]
PREMIUM_QUALITIES = [*GPT_QUALITIES, "xhigh", "max"]
# Presets offered beside a custom WIDTHxHEIGHT for the models with free sizes.
FREE_SIZE_PRESETS = [
    *GPT_SIZES,
    "1536x864",
    "864x1536",
    "2048x2048",
    "2048x1152",
    "1152x2048",
    "2560x1440",
    "1440x2560",
    "3840x2160",
    "2160x3840",
]
COMPLEXITIES = ["low", "medium", "high"]
BACKGROUNDS = ["auto", "opaque", "transparent"]
OUTPUT_FORMATS = ["png", "jpeg", "webp"]
MODERATIONS = ["auto", "low"]
PER_MILLION = Decimal(1_000_000)

# Output image tokens per image at 1024x1024, by quality (OpenAI's table for the gpt-image-1
# family). The other standard sizes have their own figures; any other size scales the
# 1024x1024 figure by its pixel count. xhigh and max are not published: the studio assumes
# twice and four times high, and the stand-in bills the same.
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 8320, "max": 16640}
STANDARD_OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
PARTIAL_IMAGE_TOKENS = 100  # per streamed preview (OpenAI's guide)
# What `auto` resolves to most often (the estimate) and at most (the amount held): auto never
# picks the opt-in xhigh and max.
AUTO_QUALITY_EXPECTED = "medium"
AUTO_QUALITY_WORST = "high"
GIF_DEFAULT_FRAMES = 9
# SVG output is authored by a text model from a reference image; its usage comes separately
# (`svg_usage`). The studio holds this many output tokens for it, priced as text output.
SVG_AUTHORING_TOKENS = 8000

OPENAI_HOSTS = {"api.openai.com"}

_RETIRED_1 = "2026-10-23"
_RETIRED_2 = "2026-12-01"
NEW_PRICES = {
    "text_input": "5.00",
    "cached_text_input": "1.25",
    "image_input": "8.00",
    "cached_image_input": "2.00",
    "image_output": "30.00",
    "text_output": "10.00",
}
_FREE = {"free_sizes": True, "sizes": FREE_SIZE_PRESETS, "input_fidelity": False}

BUILTIN_MODELS = [
    {
        "id": "gpt-image-2.6-sunburst",
        "label": "GPT Image 2.6 Sunburst",
        "note": "The strongest 2.6 model; also GIF and SVG output, complexity and markup.",
        "released": "2026-11-04",
        "snapshots": ["gpt-image-2.6-sunburst-2026-11-04"],
        **_FREE,
        "qualities": PREMIUM_QUALITIES,
        "complexity": True,
        "output_formats": ["png", "jpeg", "webp", "gif", "svg"],
        "transparent_background": True,
        "markup": True,
        "streaming": True,
        "prices": NEW_PRICES,
    },
    {
        "id": "gpt-image-2.6-flare",
        "label": "GPT Image 2.6 Flare",
        "note": "The fastest 2.6 model; also GIF and SVG output, complexity and markup.",
        "released": "2026-11-04",
        "snapshots": ["gpt-image-2.6-flare-2026-11-04"],
        **_FREE,
        "qualities": PREMIUM_QUALITIES,
        "complexity": True,
        "output_formats": ["png", "jpeg", "webp", "gif", "svg"],
        "transparent_background": True,
        "markup": True,
        "streaming": True,
        "prices": NEW_PRICES,
    },
    {
        "id": "gpt-image-2.5-sunburst",
        "label": "GPT Image 2.5 Sunburst",
        "released": "2026-09-08",
        "snapshots": ["gpt-image-2.5-sunburst-2026-09-08"],
        **_FREE,
        "qualities": PREMIUM_QUALITIES,
        "transparent_background": True,
        "markup": True,
        "streaming": True,
        "prices": NEW_PRICES,
    },
    {
        "id": "gpt-image-2.5-flare",
        "label": "GPT Image 2.5 Flare",
        "released": "2026-09-08",
        "snapshots": ["gpt-image-2.5-flare-2026-09-08"],
        **_FREE,
        "qualities": PREMIUM_QUALITIES,
        "transparent_background": True,
        "markup": True,
        "streaming": True,
        "prices": NEW_PRICES,
    },
    {
        "id": "gpt-image-2",
        "label": "GPT Image 2",
        "note": "No transparent background (a preview OpenAI does not offer to everyone).",
        "released": "2026-04-21",
        "snapshots": ["gpt-image-2-2026-04-21"],
        **_FREE,
        "qualities": GPT_QUALITIES,
        "transparent_background": False,
        "streaming": True,
        "prices": NEW_PRICES,
    },
    {
        "id": "gpt-image-1.5",
        "label": "GPT Image 1.5",
        "released": "2025-12-16",
        "shutdown_date": _RETIRED_2,
        "replacement": "gpt-image-2.5-flare",
        "snapshots": ["gpt-image-1.5-2025-12-16"],
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": True,
        "streaming": True,
        "prices": {
            "text_input": "5.00",
            "cached_text_input": "1.25",
            "image_input": "8.00",
            "cached_image_input": "2.00",
            "image_output": "32.00",
            "text_output": "10.00",
        },
    },
    {
        "id": "chatgpt-image-latest",
        "label": "ChatGPT Image (latest)",
        "released": "2026-02-10",
        "shutdown_date": _RETIRED_2,
        "replacement": "gpt-image-2.5-flare",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": True,
        "streaming": True,
        "prices": {
            "text_input": "5.00",
            "cached_text_input": "1.25",
            "image_input": "8.00",
            "cached_image_input": "2.00",
            "image_output": "32.00",
            "text_output": "10.00",
        },
    },
    {
        "id": "gpt-image-1-mini",
        "label": "GPT Image 1 mini",
        "released": "2025-10-06",
        "shutdown_date": _RETIRED_2,
        "replacement": "gpt-image-2.5-flare",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": False,
        "streaming": True,
        "prices": {
            "text_input": "2.00",
            "cached_text_input": "0.20",
            "image_input": "2.50",
            "cached_image_input": "0.25",
            "image_output": "8.00",
        },
    },
    {
        "id": "gpt-image-1",
        "label": "GPT Image 1",
        "released": "2025-04-23",
        "shutdown_date": _RETIRED_1,
        "replacement": "gpt-image-2.5-sunburst",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": True,
        "streaming": True,
        "prices": {
            "text_input": "5.00",
            "cached_text_input": "1.25",
            "image_input": "10.00",
            "cached_image_input": "2.50",
            "image_output": "40.00",
        },
    },
]

# The rules for free sizes (the SDK's `size` description): both edges multiples of 16, the
# long edge at most 3840 px, an aspect ratio within 3:1, and OpenAI's pixel limits.
SIZE_MULTIPLE = 16
MAX_EDGE = 3840
MAX_RATIO = 3
MIN_PIXELS = 655_360
MAX_PIXELS = 8_294_400
GIF_FRAMES = (2, 16)
# GIF output has its own, smaller size limit (not published; the studio's assumption, which
# the stand-in enforces too): the long edge at most 1536 px.
GIF_MAX_EDGE = 1536
_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")


@dataclass(frozen=True)
class ImageModel:
    id: str
    label: str
    sizes: list[str]
    qualities: list[str]
    transparent_background: bool
    input_fidelity: bool
    max_input_images: int
    streaming: bool
    prices: dict[str, Decimal]
    note: str = ""
    edits: bool = True
    backgrounds: list[str] = field(default_factory=list)
    free_sizes: bool = False
    complexities: list[str] = field(default_factory=list)
    output_formats: list[str] = field(default_factory=lambda: list(OUTPUT_FORMATS))
    markup: bool = False
    released: date | None = None
    shutdown_date: date | None = None
    replacement: str = ""
    snapshots: list[str] = field(default_factory=list)
    output_tokens: dict[str, int] = field(default_factory=lambda: dict(OUTPUT_TOKENS))

    @classmethod
    def from_dict(cls, data: dict) -> "ImageModel":
        prices = {name: Decimal(str(value)) for name, value in data["prices"].items()}
        transparent = bool(data.get("transparent_background", False))
        return cls(
            id=data["id"],
            label=data.get("label", data["id"]),
            sizes=list(data["sizes"]),
            qualities=list(data["qualities"]),
            transparent_background=transparent,
            input_fidelity=bool(data.get("input_fidelity", False)),
            max_input_images=int(data.get("max_input_images", 16)),
            streaming=bool(data.get("streaming", False)),
            prices=prices,
            note=data.get("note", ""),
            edits=bool(data.get("edits", True)),
            backgrounds=[b for b in BACKGROUNDS if transparent or b != "transparent"],
            free_sizes=bool(data.get("free_sizes", False)),
            complexities=list(COMPLEXITIES) if data.get("complexity") else [],
            output_formats=list(data.get("output_formats", OUTPUT_FORMATS)),
            markup=bool(data.get("markup", False)),
            released=_date(data.get("released")),
            shutdown_date=_date(data.get("shutdown_date")),
            replacement=data.get("replacement", ""),
            snapshots=list(data.get("snapshots", [])),
            output_tokens={**OUTPUT_TOKENS, **data.get("output_tokens", {})},
        )

    # --- What it accepts ------------------------------------------------------------------

    @property
    def fixed_input_fidelity(self) -> str | None:
        """The fidelity the API applies when the model takes no input_fidelity: gpt-image-2
        and later always match inputs closely (high); gpt-image-1-mini only knows low."""
        if self.input_fidelity:
            return None
        return "high" if self.free_sizes else "low"

    def is_retired(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.shutdown_date is not None and self.shutdown_date <= today

    def size_problem(self, size: str, *, output_format: str = "png") -> str | None:
        """Why `size` is not a size this model makes (None when it is)."""
        if size == "auto" and "auto" in self.sizes:
            return None
        if not self.free_sizes:
            if size in self.sizes:
                return None
            return f"{size} is not a size {self.label} makes. Choose one of: " + ", ".join(
                self.sizes
            )
        parsed = parse_size(size)
        if parsed is None:
            return f"Write the size as WIDTHxHEIGHT in pixels, for example 1536x864 (not {size!r})."
        width, height = parsed
        long, short = max(width, height), min(width, height)
        if width % SIZE_MULTIPLE or height % SIZE_MULTIPLE:
            return f"Both edges must be multiples of {SIZE_MULTIPLE} px ({size} is not)."
        if long > MAX_EDGE:
            return f"The long edge may be at most {MAX_EDGE} px ({size} is {long} px)."
        if long > MAX_RATIO * short:
            return f"The aspect ratio may be at most {MAX_RATIO}:1 ({size} is wider than that)."
        if not MIN_PIXELS <= width * height <= MAX_PIXELS:
            return (
                f"The size must have between {MIN_PIXELS:,} and {MAX_PIXELS:,} pixels "
                f"({size} has {width * height:,})."
            )
        if output_format == "gif" and long > GIF_MAX_EDGE:
            return f"GIF output may be at most {GIF_MAX_EDGE} px on its long edge."
        return None

    @property
    def format_rules(self) -> dict[str, str]:
        """What each special output format cannot do, for the form's hints."""
        rules = {}
        if "gif" in self.output_formats:
            rules["gif"] = (
                f"GIF: {GIF_FRAMES[0]}-{GIF_FRAMES[1]} frames (9 unless you choose), no "
                "previews, no mask, no compression setting"
            )
        if "svg" in self.output_formats:
            rules["svg"] = "SVG: generations only, one image, no previews, no compression setting"
        return rules

    # --- What it costs --------------------------------------------------------------------

    def cost(self, usage: dict | None, svg_usage: dict | None = None) -> Decimal:
        """The USD cost of one API response from its `usage` (input text and image tokens,
        cached ones at the cached price where the answer says so, output tokens; output
        text tokens where the model reports them) and, for SVG output, its `svg_usage`."""
        total = Decimal(0)
        if usage:
            total += self._usage_cost(usage)
        if isinstance(svg_usage, dict):
            price = self.prices
            total += _int(svg_usage.get("input_tokens")) * price.get("text_input", Decimal(0))
            total += _int(svg_usage.get("output_tokens")) * self._text_output_price()
        return (total / PER_MILLION).quantize(Decimal("0.000001"))

    def _usage_cost(self, usage: dict) -> Decimal:
        details = usage.get("input_tokens_details") or {}
        details = details if isinstance(details, dict) else {}
        text_in = details.get("text_tokens")
        image_in = _int(details.get("image_tokens"))
        if not isinstance(text_in, int):
            text_in = max(_int(usage.get("input_tokens")) - image_in, 0)
        cached_text, cached_image = _cached(details, text_in, image_in)
        output = _int(usage.get("output_tokens"))
        out_details = usage.get("output_tokens_details") or {}
        out_details = out_details if isinstance(out_details, dict) else {}
        text_out = min(_int(out_details.get("text_tokens")), output)
        image_out = output - text_out
        price = self.prices
        text_price = price.get("text_input", Decimal(0))
        image_price = price.get("image_input", Decimal(0))
        return (
            (text_in - cached_text) * text_price
            + cached_text * price.get("cached_text_input", text_price)
            + (image_in - cached_image) * image_price
            + cached_image * price.get("cached_image_input", image_price)
            + image_out * price.get("image_output", Decimal(0))
            + text_out * self._text_output_price()
        )

    def _text_output_price(self) -> Decimal:
        return self.prices.get("text_output", self.prices.get("image_output", Decimal(0)))

    def estimate(self, request: "Request") -> Decimal:
        """USD the request is expected to cost: prompt tokens (about 4 characters each),
        input image tokens, output tokens for the size and quality the API most likely makes,
        and 100 more per streamed preview."""
        return self._price(request, worst=False)

    def worst_case(self, request: "Request") -> Decimal:
        """The most the request can cost: every prompt byte a token, `auto` as the dearest
        size and quality the API may pick, every preview sent. Held against the budgets."""
        return self._price(request, worst=True)

    def _price(self, request: "Request", *, worst: bool) -> Decimal:
        prompt = request.prompt
        text = len(prompt.encode()) if worst else len(prompt) // 4
        image_in = self.input_tokens(request.inputs, request.input_fidelity)
        per_image = self.output_tokens_for(
            request.size, request.quality, worst=worst, first_input=_first(request.inputs)
        )
        frames = 1
        if request.output_format == "gif":
            frames = request.frame_count or GIF_DEFAULT_FRAMES
        output = per_image * frames * request.n
        if self.streaming and request.output_format not in ("gif", "svg"):
            output += PARTIAL_IMAGE_TOKENS * request.partial_images * request.n
        usage = {
            "input_tokens_details": {"text_tokens": max(1, text), "image_tokens": image_in},
            "output_tokens": output,
        }
        svg = None
        if request.output_format == "svg":
            svg = {"input_tokens": max(1, text), "output_tokens": SVG_AUTHORING_TOKENS}
        return self.cost(usage, svg)

    def output_tokens_for(
        self,
        size: str,
        quality: str,
        *,
        worst: bool = False,
        first_input: tuple[int, int] | None = None,
    ) -> int:
        """Output image tokens for one image of `size` at `quality`. `auto` quality is medium
        (expected) or high (worst); `auto` size is the standard size the API picks (1024x1024
        for a generation, the one nearest the first input's shape for an edit), or at worst
        the largest standard size. A size that does not parse counts as the largest one."""
        if quality == "auto" or quality not in self.output_tokens:
            quality = AUTO_QUALITY_WORST if worst else AUTO_QUALITY_EXPECTED
        standard = [(1024, 1024), (1536, 1024), (1024, 1536)]
        parsed = parse_size(size)
        if size == "auto" and not worst:
            candidates = [nearest_standard_size(*first_input) if first_input else (1024, 1024)]
        elif parsed is None:
            candidates = standard
        else:
            candidates = [parsed]
        return max(image_output_tokens(self.output_tokens, quality, w, h) for w, h in candidates)

    def input_tokens(self, inputs: list[tuple[int, int]], input_fidelity: str | None) -> int:
        """Tokens for the input images of an edit (and a markup layer, which is one more)."""
        fidelity = self.fixed_input_fidelity or input_fidelity or "low"
        return sum(image_input_tokens(w, h, fidelity) for w, h in inputs)


@dataclass(frozen=True)
class Request:
    """What an estimate needs to know about a request."""

    prompt: str = ""
    size: str = "auto"
    quality: str = "auto"
    n: int = 1
    partial_images: int = 0
    output_format: str = "png"
    frame_count: int | None = None
    # (width, height) of each input image, in order, then the markup layer if any.
    inputs: list[tuple[int, int]] = field(default_factory=list)
    input_fidelity: str | None = None

    @classmethod
    def from_params(cls, prompt: str, params: dict, inputs=()) -> "Request":
        """From a job's saved parameters (the API's own names)."""
        frames = params.get("frame_count")
        return cls(
            prompt=prompt,
            size=str(params.get("size") or "auto"),
            quality=str(params.get("quality") or "auto"),
            n=_int(params.get("n")) or 1,
            partial_images=_int(params.get("partial_images")),
            output_format=str(params.get("output_format") or "png"),
            frame_count=_int(frames) or None,
            inputs=list(inputs),
            input_fidelity=params.get("input_fidelity"),
        )


def parse_size(size: str) -> tuple[int, int] | None:
    match = _SIZE.fullmatch(size or "")
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        return None
    return int(match[1]), int(match[2])


def image_output_tokens(
    per_megapixel: dict[str, int], quality: str, width: int, height: int
) -> int:
    """Output tokens for one image: OpenAI's figure for the standard sizes, otherwise the
    1024x1024 figure scaled by the pixel count."""
    standard = STANDARD_OUTPUT_TOKENS.get(quality, {})
    if f"{width}x{height}" in standard and per_megapixel.get(quality) == OUTPUT_TOKENS[quality]:
        return standard[f"{width}x{height}"]
    return round(per_megapixel[quality] * width * height / (1024 * 1024))


def image_input_tokens(width: int, height: int, fidelity: str) -> int:
    """Tokens for one input image, by the vision tiling rule: fit within 2048x2048, scale
    the short side to 512 px (low fidelity) or 1024 px (high), then 85 base tokens plus 65
    per 512 px tile."""
    scale = min(1.0, 2048 / max(width, height))
    short_side = 1024 if fidelity == "high" else 512
    scale *= short_side / (min(width, height) * scale)
    tiles = math.ceil(width * scale / 512) * math.ceil(height * scale / 512)
    return 85 + 65 * tiles


def nearest_standard_size(width: int, height: int) -> tuple[int, int]:
    """The standard size whose aspect ratio is closest (on a log scale) to width:height."""
    ratio = math.log(width / height)
    candidates = [(1024, 1024), (1536, 1024), (1024, 1536)]
    return min(candidates, key=lambda size: abs(math.log(size[0] / size[1]) - ratio))


def _first(inputs: list[tuple[int, int]]) -> tuple[int, int] | None:
    return inputs[0] if inputs else None


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _cached(details: dict, text_in: int, image_in: int) -> tuple[int, int]:
    """Cached (text, image) input tokens: split as the answer splits them
    (cached_tokens_details), or a bare cached_tokens count taken as text first, which
    discounts least."""
    split = details.get("cached_tokens_details")
    if isinstance(split, dict) and (split.get("text_tokens") or split.get("image_tokens")):
        return (
            min(_int(split.get("text_tokens")), text_in),
            min(_int(split.get("image_tokens")), image_in),
        )
    cached = _int(details.get("cached_tokens"))
    text = min(cached, text_in)
    return text, min(cached - text, image_in)


def _date(value) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- The configured models ----------------------------------------------------------------


@cache
def _models() -> dict[str, ImageModel]:
    if settings.STUDIO_MODELS_FILE:
        with open(settings.STUDIO_MODELS_FILE) as f:
            raw = json.load(f)
    else:
        raw = BUILTIN_MODELS
    prices = {}
    if settings.STUDIO_PRICES_FILE:
        with open(settings.STUDIO_PRICES_FILE) as f:
            prices = json.load(f)
    return {
        entry["id"]: ImageModel.from_dict(
            {**entry, "prices": {**entry["prices"], **prices.get(entry["id"], {})}}
        )
        for entry in raw
    }


def all_models() -> list[ImageModel]:
    """Every configured model, newest first (the gallery shows images of all of them)."""
    return list(_models().values())


def get(model_id: str) -> ImageModel | None:
    """The model with this id, or the model a dated snapshot id belongs to."""
    models = _models()
    if model_id in models:
        return models[model_id]
    for model in models.values():
        if model_id in model.snapshots:
            return model
    match = re.fullmatch(r"(.+)-\d{4}-\d{2}-\d{2}", model_id or "")
    return models.get(match[1]) if match else None


def model_ids() -> list[str]:
    return list(_models())


def against_openai() -> bool:
    """Whether the studio talks to OpenAI itself (not a gateway or the stand-in)."""
    return (urlsplit(settings.OPENAI_BASE_URL).hostname or "") in OPENAI_HOSTS


@dataclass(frozen=True)
class Offer:
    """A model offered for new jobs: the id to send, its rules, and when it shuts down."""

    id: str
    model: ImageModel
    shutdown_date: date | None

    @property
    def label(self) -> str:
        label = self.model.label if self.id == self.model.id else f"{self.model.label} ({self.id})"
        if self.shutdown_date and self.shutdown_date <= timezone.localdate():
            label += f" (OpenAI shut it down on {self.shutdown_date:%Y-%m-%d})"
        return label

    def days_left(self, today: date | None = None) -> int | None:
        if self.shutdown_date is None:
            return None
        return (self.shutdown_date - (today or timezone.localdate())).days


def offered(listing: list[dict] | None = None, *, today: date | None = None) -> list[Offer]:
    """The models a person may choose for a new job, newest first.

    With a listing from the API (GET /models: ids and shutdown dates), the configured models
    it lists (by id or dated snapshot) with the API's dates. Without one (not fetched yet, or
    a gateway that does not list models), every configured model, less those past their
    shutdown date when the API is OpenAI's own."""
    today = today or timezone.localdate()
    offers = []
    if listing is None:
        for model in all_models():
            if against_openai() and model.is_retired(today):
                continue
            offers.append(Offer(model.id, model, model.shutdown_date))
        return offers
    listed = {entry["id"]: _date(entry.get("shutdown_date")) for entry in listing}
    for model in all_models():
        ids = [i for i in [model.id, *model.snapshots] if i in listed]
        if not ids:
            continue
        shutdown = listed[ids[0]] or model.shutdown_date
        if against_openai() and shutdown is not None and shutdown <= today:
            continue
        offers.append(Offer(ids[0], model, shutdown))
    return offers


def newest(offers: list[Offer]) -> Offer | None:
    """The newest of `offers` (by release date, then the registry's order)."""
    if not offers:
        return None
    order = {model.id: index for index, model in enumerate(all_models())}
    return min(
        offers,
        key=lambda o: (-(o.model.released or date.min).toordinal(), order.get(o.model.id, 0)),
    )


def replacement_for(model_id: str) -> ImageModel | None:
    """The model to run a retired model's job on instead."""
    model = get(model_id)
    if model is None or not model.replacement:
        return None
    return get(model.replacement)
