"""The image models the studio offers, as configuration.

Each model says what it accepts (sizes, qualities, options) and what its tokens cost. The
built-in table below follows OpenAI's published prices (USD per million tokens); a JSON file
named by STUDIO_MODELS_FILE replaces it (same shape: a list of model objects), which is how a
new model id is configured without code; STUDIO_PRICES_FILE, a JSON object of per-model
prices ({"gpt-image-1": {"image_output": "32.00"}}), overrides just the prices, which is how
a gateway's prices (CometAPI's differ) are configured.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django.conf import settings

GPT_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"]
GPT_QUALITIES = ["auto", "low", "medium", "high"]

# Output image tokens per image for the gpt-image-1 family (OpenAI's image generation guide).
GPT_IMAGE_1_OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}

BUILTIN_MODELS = [
    {
        "id": "gpt-image-1",
        "label": "GPT Image 1",
        "note": "Retired by OpenAI on 2026-10-23; gateways may still serve it.",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": True,
        "max_input_images": 16,
        "streaming": True,
        "prices": {"text_input": "5.00", "image_input": "10.00", "image_output": "40.00"},
    },
    {
        "id": "gpt-image-1-mini",
        "label": "GPT Image 1 mini",
        "note": "OpenAI retires it on 2026-12-01.",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": False,
        "max_input_images": 16,
        "streaming": True,
        "prices": {"text_input": "2.00", "image_input": "2.50", "image_output": "8.00"},
    },
    {
        "id": "gpt-image-1.5",
        "label": "GPT Image 1.5",
        "note": "OpenAI retires it on 2026-12-01.",
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "transparent_background": True,
        "input_fidelity": True,
        "max_input_images": 16,
        "streaming": True,
        "prices": {
            "text_input": "5.00",
            "image_input": "8.00",
            "image_output": "32.00",
            "text_output": "10.00",
        },
    },
    {
        "id": "gpt-image-2",
        "label": "GPT Image 2",
        "note": "Accepts other WxH sizes too; no transparent background.",
        "sizes": GPT_SIZES + ["2048x2048", "2048x1152", "1152x2048", "3840x2160", "2160x3840"],
        "qualities": GPT_QUALITIES,
        "transparent_background": False,
        "input_fidelity": False,
        "max_input_images": 16,
        "streaming": True,
        "prices": {
            "text_input": "5.00",
            "image_input": "8.00",
            "image_output": "30.00",
            "text_output": "10.00",
        },
    },
]

BACKGROUNDS = ["auto", "opaque", "transparent"]
OUTPUT_FORMATS = ["png", "jpeg", "webp"]
MODERATIONS = ["auto", "low"]
PER_MILLION = Decimal(1_000_000)


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
        )

    def cost(self, usage: dict | None) -> Decimal:
        """The USD cost of one API response from its `usage` (input text and image tokens,
        output tokens; output text tokens where the model reports and prices them)."""
        if not usage:
            return Decimal(0)
        details = usage.get("input_tokens_details") or {}
        text_in = details.get("text_tokens")
        image_in = details.get("image_tokens") or 0
        if text_in is None:
            text_in = (usage.get("input_tokens") or 0) - image_in
        output = usage.get("output_tokens") or 0
        out_details = usage.get("output_tokens_details") or {}
        text_out = out_details.get("text_tokens") or 0
        image_out = output - text_out
        price = self.prices
        total = (
            text_in * price.get("text_input", Decimal(0))
            + image_in * price.get("image_input", Decimal(0))
            + image_out * price.get("image_output", Decimal(0))
            + text_out * price.get("text_output", price.get("image_output", Decimal(0)))
        )
        return (total / PER_MILLION).quantize(Decimal("0.000001"))

    def estimate(
        self,
        *,
        prompt: str,
        size: str,
        quality: str,
        n: int,
        partial_images: int = 0,
        input_image_tokens: int = 0,
    ) -> Decimal:
        """USD a request should cost before it is sent: prompt tokens (about 4 characters
        each), input image tokens, and output tokens from the published table (100 more
        per streamed partial image)."""
        output = self.estimate_output_tokens(size=size, quality=quality, n=n)
        output += 100 * partial_images * n
        usage = {
            "input_tokens_details": {
                "text_tokens": max(1, len(prompt) // 4),
                "image_tokens": input_image_tokens,
            },
            "output_tokens": output,
        }
        return self.cost(usage)

    def estimate_output_tokens(self, *, size: str, quality: str, n: int) -> int:
        """Expected output tokens for n images (gpt-image-1 table; `auto` taken as medium
        1024x1024, which is what the API most often resolves it to)."""
        quality = "medium" if quality == "auto" else quality
        size = size if size in GPT_IMAGE_1_OUTPUT_TOKENS["low"] else "1024x1024"
        return GPT_IMAGE_1_OUTPUT_TOKENS.get(quality, GPT_IMAGE_1_OUTPUT_TOKENS["medium"])[size] * n


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
    return list(_models().values())


def get(model_id: str) -> ImageModel | None:
    return _models().get(model_id)


def default_model() -> ImageModel:
    return _models().get(settings.STUDIO_DEFAULT_MODEL) or all_models()[0]


def model_ids() -> list[str]:
    return list(_models())
