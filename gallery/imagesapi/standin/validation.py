"""The request rules of the Images API for the GPT image models, and the token counts of a reply.

Messages, `param` and `code` values copy what OpenAI sends where it is known (shared notes §2,
§3, §6.2, §10); where OpenAI's wording is not known (file and mask problems, gpt-image-2 sizes)
the message is the stand-in's own and says what is wrong.
"""

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass, field

from PIL import Image, ImageOps

GPT_IMAGE_2 = {"gpt-image-2", "gpt-image-2-2026-04-21"}
GPT_IMAGE_2_5 = {
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
}
GPT_IMAGE_2_6 = {
    "gpt-image-2.6-sunburst",
    "gpt-image-2.6-sunburst-2026-11-04",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-flare-2026-11-04",
}
RETIRED_MODELS = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"}
MODELS = RETIRED_MODELS | GPT_IMAGE_2 | GPT_IMAGE_2_5 | GPT_IMAGE_2_6
# Models with free WIDTHxHEIGHT sizes; they take no input_fidelity (inputs always count high).
FREE_SIZES = GPT_IMAGE_2 | GPT_IMAGE_2_5 | GPT_IMAGE_2_6
WITHOUT_INPUT_FIDELITY = {"gpt-image-1-mini"} | FREE_SIZES
WITHOUT_TRANSPARENCY = GPT_IMAGE_2
PREMIUM_QUALITY_MODELS = GPT_IMAGE_2_5 | GPT_IMAGE_2_6
COMPLEXITY_MODELS = GPT_IMAGE_2_6
GIF_SVG_MODELS = GPT_IMAGE_2_6
# The SDK documents markup for GPT Image 2.5; the studio's issue names 2.6: both take it.
MARKUP_MODELS = GPT_IMAGE_2_5 | GPT_IMAGE_2_6
# When OpenAI shut each model down: GET /v1/models lists a model only before its date.
SHUTDOWN_DATES = {
    "gpt-image-1": "2026-10-23",
    "gpt-image-1-mini": "2026-12-01",
    "gpt-image-1.5": "2026-12-01",
    "chatgpt-image-latest": "2026-12-01",
}
CREATED = {"gpt-image-1": 1745366400, "gpt-image-1-mini": 1759708800}

# The endpoints' documented defaults when `model` is absent: generations fall back to dall-e-2
# (retired, so the reply is model_not_found, which is what a client that forgets `model` gets).
DEFAULT_MODEL = {"generation": "dall-e-2", "edit": "gpt-image-1.5"}

SIZES = ["1024x1024", "1024x1536", "1536x1024", "auto"]
QUALITIES = ["low", "medium", "high", "auto"]
PREMIUM_QUALITIES = ["low", "medium", "high", "xhigh", "max", "auto"]
COMPLEXITIES = ["low", "medium", "high"]
BACKGROUNDS = ["transparent", "opaque", "auto"]
OUTPUT_FORMATS = ["png", "jpeg", "webp"]
NEW_OUTPUT_FORMATS = ["png", "jpeg", "webp", "gif", "svg"]
GIF_FRAMES = (2, 16)
GIF_DEFAULT_FRAMES = 9
GIF_DEFAULT_DURATION_MS = 200
GIF_MAX_DURATION_MS = 655_350
GIF_MAX_EDGE = 1536  # not published; the studio assumes the same
MODERATIONS = ["low", "auto"]
INPUT_FIDELITIES = ["high", "low"]

MAX_PROMPT = 32000
MAX_INPUT_IMAGES = 16
MAX_FILE_BYTES = 50 * 1024 * 1024
INPUT_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

COMMON_FIELDS = {
    "prompt",
    "model",
    "n",
    "size",
    "quality",
    "background",
    "output_format",
    "output_compression",
    "stream",
    "partial_images",
    "user",
    "safety_identifier",
    "complexity",
    "frame_count",
    "frame_duration_ms",
}
GENERATION_FIELDS = COMMON_FIELDS | {"moderation", "svg"}
EDIT_FORM_FIELDS = COMMON_FIELDS | {"input_fidelity"}  # multipart has no `moderation`
EDIT_JSON_FIELDS = COMMON_FIELDS | {"input_fidelity", "moderation", "images", "mask", "markup"}
IMAGE_PARTS = {"image", "image[]"}
FILE_PARTS = IMAGE_PARTS | {"mask", "markup"}
INPUT_MIMETYPES = ("image/png", "image/jpeg", "image/webp")

# Output image tokens per image for the models before gpt-image-2 (notes §7.1); the stand-in
# bills every model so, other sizes scaled from 1024x1024 by pixel count, and
# xhigh and max (not published) as twice and four times high.
OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
    "xhigh": {"1024x1024": 8320},
    "max": {"1024x1024": 16640},
}
PARTIAL_IMAGE_TOKENS = 100


class ApiError(Exception):
    """An error reply in OpenAI's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        extra: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return {"error": error | self.extra}


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


@dataclass
class InputFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ImageRequest:
    """A validated request; `size`, `quality` and `background` keep the requested values
    (streaming events echo them), `width`/`height` are the resolved output size."""

    kind: str  # "generation" or "edit"
    model: str
    prompt: str
    n: int = 1
    size: str = "auto"
    quality: str = "auto"
    background: str = "auto"
    output_format: str = "png"
    output_compression: int = 100
    moderation: str = "auto"
    input_fidelity: str = "low"
    stream: bool = False
    partial_images: int = 0
    complexity: str | None = None
    frame_count: int = GIF_DEFAULT_FRAMES
    frame_duration_ms: int = GIF_DEFAULT_DURATION_MS
    safety_identifier: str | None = None
    images: list[Image.Image] = field(default_factory=list)
    image_bytes: list[bytes] = field(default_factory=list)
    mask: Image.Image | None = None
    markup: Image.Image | None = None
    width: int = 1024
    height: int = 1024

    @property
    def resolved_size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def resolved_quality(self) -> str:
        return "medium" if self.quality == "auto" else self.quality

    @property
    def resolved_background(self) -> str:
        return "transparent" if self.background == "transparent" else "opaque"


def validate(
    kind: str, fields: dict, files: list[InputFile], *, from_form: bool, retired: set[str]
) -> ImageRequest:
    """Check a request's fields (JSON values, or strings from a form) and files.

    Raises ApiError for the first problem found, in the order OpenAI appears to check: unknown
    fields, the model, then each value.
    """
    allowed = GENERATION_FIELDS if kind == "generation" else EDIT_JSON_FIELDS
    if from_form:
        allowed = EDIT_FORM_FIELDS | FILE_PARTS | {"svg[model]", "svg[reasoning][effort]"}
    for name in [*fields, *(f.field for f in files)]:
        if name not in allowed:
            raise ApiError(
                400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter"
            )
    for upload in files:
        _check_mimetype(upload)
    if from_form:
        # Empty form values are how the SDK sends None: treat them as absent.
        fields = {name: value for name, value in fields.items() if value != "" or name == "prompt"}
    reader = _Fields(fields, from_form)

    model = reader.string("model") or DEFAULT_MODEL[kind]
    if model not in MODELS or model in retired:
        raise model_not_found(model)

    request = ImageRequest(kind=kind, model=model, prompt=_prompt(reader))
    request.n = reader.integer("n", 1, 1, 10)
    qualities = PREMIUM_QUALITIES if model in PREMIUM_QUALITY_MODELS else QUALITIES
    request.quality = reader.choice("quality", qualities, "auto")
    request.background = reader.choice("background", BACKGROUNDS, "auto")
    formats = NEW_OUTPUT_FORMATS if model in GIF_SVG_MODELS else OUTPUT_FORMATS
    request.output_format = reader.choice("output_format", formats, "png")
    request.output_compression = reader.integer("output_compression", 100, 0, 100)
    request.moderation = reader.choice("moderation", MODERATIONS, "auto")
    request.stream = reader.boolean("stream", False)
    request.partial_images = reader.integer("partial_images", 0, 0, 3)
    reader.string("user")
    request.safety_identifier = reader.string("safety_identifier") or reader.string("user")
    if "complexity" in fields and model not in COMPLEXITY_MODELS:
        raise _unsupported("complexity")
    request.complexity = reader.choice("complexity", COMPLEXITIES, "medium")
    if "input_fidelity" in fields and model in WITHOUT_INPUT_FIDELITY:
        raise _unsupported("input_fidelity")
    default_fidelity = "high" if model in FREE_SIZES else "low"
    request.input_fidelity = reader.choice("input_fidelity", INPUT_FIDELITIES, default_fidelity)
    _check_format_rules(request, fields, reader)
    if request.background == "transparent":
        if model in WITHOUT_TRANSPARENCY:
            raise ApiError(
                400,
                "Unsupported value: 'background' does not support 'transparent' with this model.",
                param="background",
                code="unsupported_value",
            )
        if request.output_format == "jpeg":
            raise ApiError(
                400,
                "Invalid value: 'transparent'. A transparent background requires "
                "output_format 'png' or 'webp'.",
                param="background",
                code="invalid_value",
            )

    if kind == "edit":
        if from_form and "mask" in fields:
            raise _expected_file("mask")
        if from_form:
            images = [f for f in files if f.field in IMAGE_PARTS]
            masks = [f for f in files if f.field == "mask"]
            markups = [f for f in files if f.field == "markup"]
        else:
            images, masks, markups = _json_images(fields)
        request.image_bytes = [f.data for f in images]
        request.images = _input_images(images, fields, from_form)
        request.mask = _mask(masks, request.images[0])
        request.markup = _markup(markups, request, masks)
        if request.mask is not None and request.output_format == "gif":
            raise ApiError(
                400,
                "Invalid value: 'gif'. GIF output does not support masks.",
                param="output_format",
                code="invalid_value",
            )

    request.size = reader.string("size") or "auto"
    request.width, request.height = _resolve_size(request)
    if request.output_format == "gif" and max(request.width, request.height) > GIF_MAX_EDGE:
        raise ApiError(
            400,
            f"Invalid value: '{request.size}'. GIF output supports sizes up to {GIF_MAX_EDGE} "
            "px on the long edge.",
            param="size",
            code="invalid_value",
        )
    return request


def _unsupported(name: str) -> ApiError:
    return ApiError(
        400,
        f"Unsupported parameter: '{name}' is not supported with this model.",
        param=name,
        code="unsupported_parameter",
    )


def _check_mimetype(upload: InputFile) -> None:
    """OpenAI judges a file part by its declared type first: application/octet-stream (what
    an HTTP library sends for bytes without a name or type) is refused."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared and declared not in INPUT_MIMETYPES:
        param = "image" if upload.field in IMAGE_PARTS else upload.field
        raise ApiError(
            400,
            f"Invalid file '{param}': unsupported mimetype ('{declared}'). Supported file "
            "formats are 'image/jpeg', 'image/png', and 'image/webp'.",
            param=param,
            code="unsupported_file_mimetype",
        )


def _check_format_rules(request: ImageRequest, fields: dict, reader: "_Fields") -> None:
    """GIF and SVG output: what they take and what they cannot do (SDK image params)."""
    fmt = request.output_format
    for name in ("frame_count", "frame_duration_ms"):
        if name in fields and fmt != "gif":
            raise ApiError(
                400,
                f"Invalid parameter: '{name}' is only supported with output_format=gif.",
                param=name,
                code="invalid_value",
            )
    if "svg" in fields and fmt != "svg":
        raise ApiError(
            400,
            "Invalid parameter: 'svg' is only supported with output_format=svg.",
            param="svg",
            code="invalid_value",
        )
    if fmt not in ("gif", "svg"):
        return
    if request.stream or request.partial_images:
        param = "stream" if request.stream else "partial_images"
        raise ApiError(
            400,
            f"Invalid value: '{fmt}' output does not support streaming or partial images.",
            param=param,
            code="invalid_value",
        )
    if "output_compression" in fields:
        raise ApiError(
            400,
            f"Invalid parameter: 'output_compression' is not supported with {fmt} output.",
            param="output_compression",
            code="invalid_value",
        )
    if fmt == "gif":
        request.frame_count = reader.integer("frame_count", GIF_DEFAULT_FRAMES, *GIF_FRAMES)
        duration = reader.integer("frame_duration_ms", GIF_DEFAULT_DURATION_MS, 1, 10**9)
        request.frame_duration_ms = min(round(duration / 10) * 10 or 10, GIF_MAX_DURATION_MS)
        return
    if request.kind == "edit":
        raise ApiError(
            400,
            "Invalid value: 'svg'. SVG output is supported for generations only.",
            param="output_format",
            code="invalid_value",
        )
    if request.n != 1:
        raise ApiError(
            400,
            "Invalid 'n': SVG output requires n=1.",
            param="n",
            code="invalid_value",
        )
    svg = fields.get("svg")
    if svg is not None and not (isinstance(svg, dict) and isinstance(svg.get("model"), str)):
        raise _invalid_type("svg", "an object with a 'model' string", svg)


def _prompt(reader: "_Fields") -> str:
    prompt = reader.string("prompt")
    if prompt is None:
        raise ApiError(
            400,
            "Missing required parameter: 'prompt'.",
            param="prompt",
            code="missing_required_parameter",
        )
    if prompt == "":
        raise ApiError(
            400,
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            param="prompt",
            code="empty_string",
        )
    if len(prompt) > MAX_PROMPT:
        raise ApiError(
            400,
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{MAX_PROMPT}, but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    return prompt


def _resolve_size(request: ImageRequest) -> tuple[int, int]:
    size = request.size
    if size == "auto":
        if request.kind == "edit":
            return _nearest_standard_size(*request.images[0].size)
        return 1024, 1024
    if size in SIZES:
        width, height = size.split("x")
        return int(width), int(height)
    if request.model in FREE_SIZES:
        parsed = _free_size(size)
        if parsed:
            return parsed
        raise ApiError(
            400,
            f"Invalid value: '{size}'. Sizes for {request.model} are 'auto' or WIDTHxHEIGHT "
            "with both edges multiples of 16 and at most 3840 px, an aspect ratio between 1:3 "
            "and 3:1, and 655,360 to 8,294,400 pixels in total.",
            param="size",
            code="invalid_value",
        )
    raise ApiError(
        400,
        f"Invalid value: '{size}'. Supported values are: {_listing(SIZES)}.",
        param="size",
        code="invalid_value",
    )


def _free_size(size: str) -> tuple[int, int] | None:
    """gpt-image-2's rules for arbitrary sizes (spec `size` description, notes §2.1)."""
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", size)
    if not match:
        return None
    width, height = int(match[1]), int(match[2])
    fits = (
        width % 16 == 0
        and height % 16 == 0
        and max(width, height) <= 3840
        and max(width, height) <= 3 * min(width, height)
        and 655_360 <= width * height <= 8_294_400
    )
    return (width, height) if fits else None


def _nearest_standard_size(width: int, height: int) -> tuple[int, int]:
    """The standard size whose aspect ratio is closest (on a log scale) to the input's."""
    ratio = math.log(width / height)
    candidates = [(1024, 1024), (1536, 1024), (1024, 1536)]
    return min(candidates, key=lambda size: abs(math.log(size[0] / size[1]) - ratio))


def _input_images(files: list[InputFile], fields: dict, from_form: bool) -> list[Image.Image]:
    if not files:
        if from_form and IMAGE_PARTS & set(fields):
            raise _expected_file("image")
        raise ApiError(
            400,
            "Missing required parameter: 'image'.",
            param="image",
            code="missing_required_parameter",
        )
    if len(files) > MAX_INPUT_IMAGES:
        raise ApiError(
            400,
            f"Invalid 'image': array too long. Expected an array with maximum length "
            f"{MAX_INPUT_IMAGES}, but got an array with length {len(files)} instead.",
            param="image",
            code="array_above_max_length",
        )
    return [_decoded(f, "image") for f in files]


def _mask(masks: list[InputFile], first: Image.Image) -> Image.Image | None:
    if not masks:
        return None
    if len(masks) > 1:
        raise ApiError(400, "Only one 'mask' may be sent.", param="mask", code="invalid_value")
    mask = _decoded(masks[0], "mask")
    has_alpha = mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info
    if mask.format != "PNG" or not has_alpha:
        raise ApiError(
            400,
            "Invalid 'mask': the mask must be a PNG image with an alpha channel "
            f"(got {mask.format} {mask.mode}).",
            param="mask",
            code="invalid_value",
        )
    if mask.size != first.size:
        raise ApiError(
            400,
            "Invalid 'mask': the mask and the first image must have the same dimensions "
            f"(mask {mask.width}x{mask.height}, image {first.width}x{first.height}).",
            param="mask",
            code="invalid_value",
        )
    return mask


def _markup(
    markups: list[InputFile], request: ImageRequest, masks: list[InputFile]
) -> Image.Image | None:
    """A markup layer: a PNG with transparent pixels the size of the first image (after its
    orientation), on the models that take one, never together with a mask."""
    if not markups:
        return None
    if request.model not in MARKUP_MODELS:
        raise _unsupported("markup")
    if masks:
        raise ApiError(
            400,
            "Invalid 'markup': markup cannot be combined with mask.",
            param="markup",
            code="invalid_value",
        )
    if len(markups) > 1:
        raise ApiError(400, "Only one 'markup' may be sent.", param="markup", code="invalid_value")
    layer = _decoded(markups[0], "markup")
    first = ImageOps.exif_transpose(request.images[0])
    if layer.format != "PNG" or layer.convert("RGBA").getchannel("A").getextrema()[0] == 255:
        raise ApiError(
            400,
            "Invalid 'markup': the markup must be a PNG image with transparent pixels.",
            param="markup",
            code="invalid_value",
        )
    if layer.size != first.size:
        raise ApiError(
            400,
            "Invalid 'markup': the markup and the first image must have the same dimensions "
            f"(markup {layer.width}x{layer.height}, image {first.width}x{first.height}).",
            param="markup",
            code="invalid_value",
        )
    return layer


def _decoded(upload: InputFile, param: str) -> Image.Image:
    """Open an uploaded file with Pillow, judging its format by content, not by name."""
    name = upload.filename or param
    if len(upload.data) >= MAX_FILE_BYTES:
        raise ApiError(
            400,
            f"Invalid file '{name}': files must be smaller than 50 MB "
            f"(got {len(upload.data)} bytes).",
            param=param,
            code="file_too_large",
        )
    try:
        image = Image.open(io.BytesIO(upload.data))
        image.load()
    except Exception as exc:  # Pillow raises many types for broken input
        raise ApiError(
            400,
            f"Invalid file '{name}': the file could not be read as an image.",
            param=param,
            code="invalid_image",
        ) from exc
    if image.format not in INPUT_FORMATS:
        mime = Image.MIME.get(image.format or "", "application/octet-stream")
        raise ApiError(
            400,
            f"Invalid file '{name}': unsupported mimetype ('{mime}'). Supported file formats "
            "are 'image/jpeg', 'image/png', and 'image/webp'.",
            param=param,
            code="invalid_image_format",
        )
    return image


def _json_images(fields: dict) -> tuple[list[InputFile], list[InputFile], list[InputFile]]:
    """The JSON variant of edits (notes §3.6): image references as base64 `data:` URLs. The
    stand-in has no Files API and no internet, so `file_id` and http(s) URLs are refused."""
    refs = fields.get("images")
    if refs is None:
        raise ApiError(
            400,
            "Missing required parameter: 'images'.",
            param="images",
            code="missing_required_parameter",
        )
    if not isinstance(refs, list):
        raise _invalid_type("images", "an array", refs)
    images = [_data_url(ref, f"images[{i}]") for i, ref in enumerate(refs)]
    mask, markup = fields.get("mask"), fields.get("markup")
    return (
        images,
        [_data_url(mask, "mask")] if mask is not None else [],
        [_data_url(markup, "markup")] if markup is not None else [],
    )


def _data_url(ref, param: str) -> InputFile:
    if not isinstance(ref, dict) or set(ref) - {"image_url", "file_id"} or len(ref) != 1:
        raise ApiError(
            400,
            f"Invalid '{param}': expected an object with exactly one of 'image_url' or 'file_id'.",
            param=param,
            code="invalid_value",
        )
    url = ref.get("image_url")
    match = re.fullmatch(r"data:([\w/+.-]+);base64,(.*)", url or "", re.DOTALL)
    if not match:
        raise ApiError(
            400,
            f"Invalid '{param}': the stand-in accepts only base64 data: URLs.",
            param=param,
            code="invalid_value",
        )
    try:
        data = base64.b64decode(match[2], validate=True)
    except binascii.Error as exc:
        raise ApiError(
            400, f"Invalid '{param}': bad base64 data.", param=param, code="invalid_value"
        ) from exc
    return InputFile(param, None, match[1], data)


class _Fields:
    """Typed access to request fields, absent or null meaning "use the default"."""

    def __init__(self, fields: dict, from_form: bool):
        self.fields = fields
        self.from_form = from_form

    def string(self, name: str) -> str | None:
        value = self.fields.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid_type(name, "a string", value)
        return value

    def choice(self, name: str, choices: list[str], default: str) -> str:
        value = self.string(name)
        if value is None:
            return default
        if value not in choices:
            raise ApiError(
                400,
                f"Invalid value: '{value}'. Supported values are: {_listing(choices)}.",
                param=name,
                code="invalid_value",
            )
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.fields.get(name)
        if value is None:
            return default
        if self.from_form and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid_type(name, "an integer", value)
        if value < low:
            raise ApiError(
                400,
                f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, "
                f"but got {value} instead.",
                param=name,
                code="integer_below_min_value",
            )
        if value > high:
            raise ApiError(
                400,
                f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, "
                f"but got {value} instead.",
                param=name,
                code="integer_above_max_value",
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.fields.get(name)
        if value is None:
            return default
        if self.from_form and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise _invalid_type(name, "a boolean", value)
        return value


def _invalid_type(name: str, expected: str, value) -> ApiError:
    got = {
        bool: "a boolean",
        int: "an integer",
        float: "a decimal",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), "an unsupported value")
    return ApiError(
        400,
        f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
        param=name,
        code="invalid_type",
    )


def _expected_file(name: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{name}': expected a file, but got a string instead.",
        param=name,
        code="invalid_type",
    )


def _listing(values: list[str]) -> str:
    """'a', 'b', and 'c' - the way OpenAI lists supported values."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


# --- Usage ------------------------------------------------------------------------------


def text_tokens(prompt: str) -> int:
    """A deterministic stand-in for a tokenizer: about 1.3 tokens per word."""
    return max(1, round(len(prompt.split()) * 1.3))


def image_input_tokens(width: int, height: int, fidelity: str) -> int:
    """Tokens for one input image, by the vision-style tiling rule: fit within 2048x2048, scale
    the short side to 512 px (input_fidelity low) or 1024 px (high), then 85 base tokens plus
    65 per 512 px tile. A 1024x1024 input costs 150 tokens at low fidelity, 345 at high."""
    scale = min(1.0, 2048 / max(width, height))
    short_side = 1024 if fidelity == "high" else 512
    scale *= short_side / (min(width, height) * scale)
    tiles = math.ceil(width * scale / 512) * math.ceil(height * scale / 512)
    return 85 + 65 * tiles


def output_tokens(quality: str, width: int, height: int) -> int:
    """Output image tokens for one image: the §7.1 table, and for other sizes (the models
    with free sizes) the 1024x1024 figure scaled by pixel count."""
    table = OUTPUT_TOKENS["medium" if quality == "auto" else quality]
    size = f"{width}x{height}"
    if size in table:
        return table[size]
    return round(table["1024x1024"] * width * height / (1024 * 1024))


def usage(request: ImageRequest, *, images: int, partials: int, with_input: bool = True) -> dict:
    """The `usage` object for `images` output images (and `partials` streamed previews). A
    GIF bills every frame as an image; a markup layer is billed as one more input image."""
    text = text_tokens(request.prompt) if with_input else 0
    image_in = 0
    if with_input:
        inputs = [*request.images, *([request.markup] if request.markup else [])]
        image_in = sum(
            image_input_tokens(im.width, im.height, request.input_fidelity) for im in inputs
        )
    frames = request.frame_count if request.output_format == "gif" else 1
    output = images * frames * output_tokens(request.quality, request.width, request.height)
    output += partials * PARTIAL_IMAGE_TOKENS
    return {
        "input_tokens": text + image_in,
        "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
        "output_tokens": output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
        "total_tokens": text + image_in + output,
    }


def svg_usage(request: ImageRequest, document: bytes) -> dict:
    """Token usage of authoring an SVG (separate from rendering its reference image)."""
    author = request.model
    output = max(1, len(document) // 4)
    reasoning = {"low": 64, "medium": 256, "high": 1024}.get(request.complexity or "", 256)
    text = text_tokens(request.prompt)
    return {
        "model": author,
        "input_tokens": text,
        "output_tokens": output + reasoning,
        "reasoning_tokens": reasoning,
        "total_tokens": text + output + reasoning,
    }
