"""OpenAI's Images protocol as the studio answers it: which request parameters it takes, the
error envelope, the response body, the streamed events, and waiting for the job.

Shapes follow the official API (`../shared/spec/openai-images-openapi.yaml`) so the official
SDK's typed objects parse them. A finished job that failed answers with `x-should-retry: false`:
the job engine already retried what was worth retrying, and an SDK retry would pay again.
"""

import base64
import json
import time
from collections.abc import Iterator

from django.conf import settings
from django.core import signing
from django.db import close_old_connections
from django.urls import reverse

from gallery import media
from gallery.models import Image, Job

GENERATION_PARAMETERS = frozenset(
    {
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "background",
        "output_format",
        "output_compression",
        "moderation",
        "partial_images",
        "stream",
        "response_format",
        "user",
        "safety_identifier",
    }
)
EDIT_PARAMETERS = (GENERATION_PARAMETERS - {"moderation"}) | {"input_fidelity"}
EDIT_FILES = frozenset({"image", "image[]", "mask"})
RESPONSE_FORMATS = ("b64_json", "url")
URL_SALT = "gallery.gateway.image-url"
FORM_FIELD_PARAMETERS = {"custom_size": "size"}
OUTPUT_SOURCES = (Image.Source.GENERATED, Image.Source.EDITED)


class ApiError(Exception):
    """An answer in OpenAI's error envelope: `{"error": {message, type, param, code}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def check_parameters(given, allowed: frozenset) -> None:
    for name in given:
        if name not in allowed:
            raise ApiError(
                400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter"
            )


def form_data(params: dict) -> dict:
    """JSON values as the studio's forms read them (strings); `stream`, `response_format`,
    `user` and `safety_identifier` are the gateway's own, not the form's."""
    data = {}
    for name, value in params.items():
        if name in ("stream", "response_format", "user", "safety_identifier") or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ApiError(400, f"Invalid type for '{name}'.", param=name, code="invalid_type")
        data[name] = str(value)
    return data


def first_form_error(form) -> ApiError:
    """The form's first complaint as OpenAI reports a bad parameter."""
    field, messages = next(iter(form.errors.items()))
    # The form's own fields for what OpenAI calls one parameter (a free WxH is `size`).
    param = None if field == "__all__" else FORM_FIELD_PARAMETERS.get(field, field)
    return ApiError(400, str(messages[0]), param=param, code="invalid_value" if param else None)


def response_format(params: dict) -> str:
    chosen = params.get("response_format") or "b64_json"
    if chosen not in RESPONSE_FORMATS:
        raise ApiError(
            400,
            f"Invalid value: '{chosen}'. Supported values are: 'b64_json' and 'url'.",
            param="response_format",
            code="invalid_value",
        )
    return chosen


def truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def wait_for(job_id: int, *, timeout: float) -> Job | None:
    """The job once it is finished, or None when `timeout` seconds pass first. Polls the row
    (a few milliseconds' read) and gives the database connection back between polls, so
    many waiting requests hold no connections."""
    started = time.monotonic()
    while True:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        if time.monotonic() - started >= timeout:
            return None
        close_old_connections()
        time.sleep(_poll_pause(time.monotonic() - started))


def _poll_pause(waited: float) -> float:
    """How long to wait before looking at the job again. Often at first, when a fast job may
    be about to finish and every poll's overshoot is latency the client sees; then four times
    a second, which adds at most a percent to a job that runs for tens of seconds and keeps
    a hundred waiting requests to a few hundred small reads a second."""
    return 0.02 if waited < 2.0 else 0.25


def outputs(job: Job) -> list[Image]:
    return list(
        job.images.filter(source__in=OUTPUT_SOURCES, trashed_at__isnull=True).order_by(
            "index", "id"
        )
    )


def failure(job: Job) -> ApiError:
    """A finished job that did not succeed, as the error a client of OpenAI would see."""
    no_retry = {"x-should-retry": "false"}
    if job.status == Job.Status.CANCELED:
        return ApiError(
            409, f"Job {job.pk} was canceled in the studio.", code="canceled", headers=no_retry
        )
    if job.error_code == "moderation_blocked":
        return ApiError(400, job.error, code="moderation_blocked", headers=no_retry)
    return ApiError(
        502,
        f"The image API call failed: {job.error}",
        type="server_error",
        code=job.error_code or None,
        headers=no_retry,
    )


def image_url(request, image: Image) -> str:
    """A signed studio link to the original, valid STUDIO_GATEWAY_URL_SECONDS: scripts and
    chat front-ends fetch it without a session."""
    token = signing.dumps(image.pk, salt=URL_SALT)
    return request.build_absolute_uri(reverse("gallery:gateway-image", args=[token]))


def image_from_url_token(token: str) -> int | None:
    try:
        return signing.loads(token, salt=URL_SALT, max_age=settings.STUDIO_GATEWAY_URL_SECONDS)
    except signing.BadSignature:
        return None


def _datum(request, image: Image, fmt: str) -> dict:
    if fmt == "url":
        datum = {"url": image_url(request, image)}
    else:
        datum = {"b64_json": base64.b64encode(media.read(image.file_name)).decode()}
    if image.revised_prompt:
        datum["revised_prompt"] = image.revised_prompt
    return datum


def _described(job: Job, images: list[Image]) -> dict:
    """What the response says about the outputs: what the API resolved, not "auto"."""
    first = images[0] if images else None
    described = {
        "background": (first.background if first else "") or job.params.get("background"),
        "output_format": job.params.get("output_format", "png"),
        "quality": (first.quality if first else "") or job.params.get("quality"),
        "size": f"{first.width}x{first.height}" if first else job.params.get("size"),
    }
    return {key: value for key, value in described.items() if value}


def images_response(request, job: Job, fmt: str) -> dict:
    images = outputs(job)
    body = {
        "created": int(job.created_at.timestamp()),
        "data": [_datum(request, image, fmt) for image in images],
        **_described(job, images),
    }
    if job.usage:
        body["usage"] = job.usage
    return body


def sse(event: str, payload: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode()


def stream_events(request, job_id: int, *, kind: str, timeout: float) -> Iterator[bytes]:
    """The job as OpenAI's streamed events: a `<kind>.partial_image` whenever the worker
    stores a new preview, then one `<kind>.completed` per image (or an `error` event).
    `kind` is "image_generation" or "image_edit"."""
    started = time.monotonic()
    sent = ""
    while True:
        job = Job.objects.get(pk=job_id)
        if job.partial_file and job.partial_file != sent and not job.is_finished:
            try:
                data = media.read(job.partial_file)
            except FileNotFoundError:  # replaced by a newer preview meanwhile
                data = None
            if data is not None:
                sent = job.partial_file
                yield sse(
                    f"{kind}.partial_image",
                    {
                        "type": f"{kind}.partial_image",
                        "b64_json": base64.b64encode(data).decode(),
                        "created_at": int(time.time()),
                        "partial_image_index": job.partial_index or 0,
                        **_described(job, []),
                    },
                )
        if job.is_finished:
            break
        if time.monotonic() - started >= timeout:
            yield _error_event(timed_out(job))
            return
        close_old_connections()
        time.sleep(_poll_pause(time.monotonic() - started))
    if job.status != Job.Status.SUCCEEDED:
        yield _error_event(failure(job))
        return
    images = outputs(job)
    for image in images:
        event = {
            "type": f"{kind}.completed",
            **_datum(request, image, "b64_json"),
            "created_at": int(job.created_at.timestamp()),
            **_described(job, [image]),
        }
        if job.usage:
            event["usage"] = job.usage
        yield sse(f"{kind}.completed", event)


def _error_event(error: ApiError) -> bytes:
    return sse("error", {"type": "error", **error.body()})


def timed_out(job: Job) -> ApiError:
    return ApiError(
        504,
        f"Job {job.pk} is still {job.status} after the studio's wait "
        f"(STUDIO_GATEWAY_TIMEOUT); it continues and its images will be in the gallery.",
        type="server_error",
        code="timeout",
        headers={"x-should-retry": "false"},
    )
