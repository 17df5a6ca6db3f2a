"""The only code that speaks HTTP to the image API (OpenAI or an OpenAI-compatible gateway).

It builds requests the way the official SDK does (JSON for generations, multipart with
`image` / `image[]` / `mask` for edits), parses responses leniently (every metadata field and
`*_details` optional, unknown keys ignored, `b64_json` or `url`), and maps every failure to
one of two exceptions: TransientError (worth retrying: timeouts, connection errors, 429, 5xx,
broken bodies) or PermanentError (retrying cannot help: validation, moderation, auth,
quota, unknown model). Their messages are written for the person who asked.

The API key is read from the environment of the calling process at call time and is never
put into a message, a log line or an exception.
"""

import base64
import binascii
import email.utils
import io
import ipaddress
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict
from urllib.parse import quote, quote_plus

import httpcore
import httpx
import PIL.Image
from django.conf import settings

from gallery.imagesapi import registry

log = logging.getLogger(__name__)

STANDIN_KEY = "standin-offline-key"
MAX_RETRY_AFTER = 120.0


class APIError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        retry_after: float | None = None,
    ):
        # Everything here may echo what the API sent; it is stored, shown and logged.
        message = _redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = _redact(code, limit=100)
        self.request_id = _redact(request_id, limit=200)
        self.retry_after = retry_after


class _ErrorDetails(TypedDict):
    """What error_from_response passes to every APIError it builds."""

    status: int
    code: str
    request_id: str


class TransientError(APIError):
    """The same request may succeed later."""


class PermanentError(APIError):
    """The same request will fail again: the person has to change something."""


@dataclass(frozen=True)
class InputFile:
    filename: str
    data: bytes
    content_type: str


@dataclass
class Result:
    images: list[bytes]
    usage: dict | None = None
    request_id: str = ""
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    output_format: str | None = None
    revised_prompts: list[str | None] = field(default_factory=list)
    svg_usage: dict | None = None


PartialCallback = Callable[[int, bytes], None]


def _api_key() -> str:
    path = os.environ.get("OPENAI_API_KEY_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get("OPENAI_API_KEY") or STANDIN_KEY


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """One connection pool per process, shared by the worker's threads (httpx.Client is
    thread-safe). Redirects are not followed: a redirect means a wrong base URL."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(
                    connect=settings.STUDIO_API_CONNECT_TIMEOUT,
                    read=settings.STUDIO_API_READ_TIMEOUT,
                    write=60.0,
                    pool=None,
                ),
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
                follow_redirects=False,
            )
        return _client


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {_api_key()}", "Accept": "application/json"}


def _url(path: str) -> str:
    return f"{settings.OPENAI_BASE_URL}{path}"


def generate(
    *,
    model: str,
    prompt: str,
    n: int = 1,
    size: str | None = None,
    quality: str | None = None,
    background: str | None = None,
    output_format: str | None = None,
    output_compression: int | None = None,
    moderation: str | None = None,
    complexity: str | None = None,
    frame_count: int | None = None,
    frame_duration_ms: int | None = None,
    partial_images: int = 0,
    on_partial: PartialCallback | None = None,
) -> Result:
    """POST /images/generations. With on_partial, the response is streamed and each partial
    image is handed to on_partial(index, bytes) as it arrives."""
    body = _without_none(
        {
            "model": model,
            "prompt": prompt,
            "n": n,
            "size": size,
            "quality": quality,
            "background": background,
            "output_format": output_format,
            "output_compression": output_compression,
            "moderation": moderation,
            "complexity": complexity,
            "frame_count": frame_count,
            "frame_duration_ms": frame_duration_ms,
        }
    )
    if on_partial is not None:
        body.update(stream=True, partial_images=partial_images)
        return _send_streaming("/images/generations", on_partial, model=model, json=body)
    return _send("/images/generations", model=model, json=body)


def edit(
    *,
    model: str,
    prompt: str,
    images: list[InputFile],
    mask: InputFile | None = None,
    markup: InputFile | None = None,
    n: int = 1,
    size: str | None = None,
    quality: str | None = None,
    background: str | None = None,
    output_format: str | None = None,
    output_compression: int | None = None,
    input_fidelity: str | None = None,
    complexity: str | None = None,
    frame_count: int | None = None,
    frame_duration_ms: int | None = None,
    partial_images: int = 0,
    on_partial: PartialCallback | None = None,
) -> Result:
    """POST /images/edits as multipart: one file as `image`, several as repeated `image[]`
    (what the official SDK sends), the mask as `mask`, a markup layer as `markup`. Every file
    part declares its image type: OpenAI refuses application/octet-stream."""
    data = _without_none(
        {
            "model": model,
            "prompt": prompt,
            "n": n,
            "size": size,
            "quality": quality,
            "background": background,
            "output_format": output_format,
            "output_compression": output_compression,
            "input_fidelity": input_fidelity,
            "complexity": complexity,
            "frame_count": frame_count,
            "frame_duration_ms": frame_duration_ms,
        }
    )
    data = {key: str(value) for key, value in data.items()}
    name = "image" if len(images) == 1 else "image[]"
    files = [(name, _image_part(f)) for f in images]
    if mask is not None:
        files.append(("mask", _image_part(mask)))
    if markup is not None:
        files.append(("markup", _image_part(markup)))
    if on_partial is not None:
        data.update(stream="true", partial_images=str(partial_images))
        return _send_streaming("/images/edits", on_partial, model=model, data=data, files=files)
    return _send("/images/edits", model=model, data=data, files=files)


def _without_none(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def _image_part(f: InputFile) -> tuple[str, bytes, str]:
    """A multipart file part whose declared type is the image's real type (from its first
    bytes when the caller did not name an image type)."""
    content_type = f.content_type
    if not content_type.startswith("image/"):
        content_type = next((t for magic, t in _MAGIC if f.data.startswith(magic)), "")
        if not content_type and f.data[:4] == b"RIFF" and f.data[8:12] == b"WEBP":
            content_type = "image/webp"
        content_type = content_type or "image/png"
    return f.filename, f.data, content_type


def list_models() -> list[dict] | None:
    """GET /models: the image models the key can use, as [{"id", "shutdown_date"}], or None
    when the API does not list models (a gateway answering 404, HTML or another shape).
    Raises PermanentError for a refused key and TransientError when the API cannot be
    reached, so the caller keeps what it knew."""
    try:
        response = _http().get(_url("/models"), headers=_headers())
    except httpx.HTTPError as exc:
        raise TransientError(f"Could not reach the image API: {_describe(exc)}.") from None
    if response.status_code in (404, 405, 501) or 300 <= response.status_code < 400:
        return None
    if response.status_code != 200:
        raise error_from_response(response, model="")
    body = _json_body(response)
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return None
    listed = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        model_id = entry["id"]
        if not (_IMAGE_MODEL.match(model_id) or registry.get(model_id)):
            continue
        shutdown = entry.get("shutdown_date")
        if not (isinstance(shutdown, str) and _DATE.fullmatch(shutdown[:10])):
            shutdown = None
        listed.append({"id": model_id, "shutdown_date": shutdown and shutdown[:10]})
    return listed


_IMAGE_MODEL = re.compile(r"(gpt-image|chatgpt-image|dall-e)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _send(path: str, *, model: str, **request) -> Result:
    started = time.monotonic()
    try:
        response = _http().post(_url(path), headers=_headers(), **request)
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"The image API did not answer within {_timeout_text()} ({type(exc).__name__})."
        ) from None
    except httpx.HTTPError as exc:
        raise TransientError(f"Could not reach the image API: {_describe(exc)}.") from None
    request_id = _request_id(response)
    log.info(
        "image API %s %s -> %s in %.1fs request_id=%s",
        path,
        model,
        response.status_code,
        time.monotonic() - started,
        request_id or "-",
    )
    if response.status_code != 200:
        raise error_from_response(response, model=model)
    return _parse_result(response, request_id)


def _send_streaming(path: str, on_partial: PartialCallback, *, model: str, **request) -> Result:
    headers = _headers() | {"Accept": "text/event-stream"}
    try:
        with _http().stream("POST", _url(path), headers=headers, **request) as response:
            request_id = _request_id(response)
            if response.status_code != 200:
                response.read()
                raise error_from_response(response, model=model)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                response.read()
                return _parse_result(response, request_id)
            return _read_events(response.iter_lines(), on_partial, request_id)
    except httpx.TimeoutException as exc:
        raise TransientError(
            f"The image API did not answer within {_timeout_text()} ({type(exc).__name__})."
        ) from None
    except httpx.HTTPError as exc:
        raise TransientError(f"The image API stream broke off: {_describe(exc)}.") from None


def _read_events(lines, on_partial: PartialCallback, request_id: str) -> Result:
    """Server-sent events: `*.partial_image` events carry previews, each `*.completed`
    event one final image (as `b64_json`, or a `url` some gateways send) with usage. An error
    event fails the call: a server error (its type ends in `server_error`) is worth retrying,
    anything else is not. A stream that ends before any completed event was cut off and is
    worth retrying."""
    result = Result(images=[], request_id=request_id)
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        try:
            event = json.loads(payload)
        except ValueError:
            raise TransientError("The image API sent a broken streaming event.") from None
        if not isinstance(event, dict):
            continue
        kind = str(event.get("type", ""))
        if event.get("error") or kind == "error" or kind.endswith(("_error", ".failed")):
            raise _stream_error(event, request_id)
        if kind.endswith(".partial_image"):
            on_partial(int(event.get("partial_image_index", 0)), _b64(event.get("b64_json")))
        elif kind.endswith(".completed"):
            result.images.append(_image_of(event))
            result.usage = _add_usage(result.usage, event.get("usage"))
            for key in ("size", "quality", "background", "output_format"):
                setattr(result, key, _resolved(event.get(key)) or getattr(result, key))
    if not result.images:
        raise TransientError("The image API stream ended before the image was complete.")
    _resolve_from_images(result)
    return result


def _stream_error(event: dict, request_id: str) -> APIError:
    found = event.get("error")
    error: dict = found if isinstance(found, dict) else {}
    kinds = {str(event.get("type") or ""), str(error.get("type") or ""), str(error.get("code"))}
    message = _redact(str(error.get("message") or event.get("message") or "")).strip()
    message = message or "The image API reported an error mid-stream."
    code = str(error.get("code") or "")
    if any(k.endswith("server_error") or k in ("rate_limit_exceeded", "overloaded") for k in kinds):
        return TransientError(
            f"The image API failed mid-stream (server error). {message}".strip(),
            code=code or "server_error",
            request_id=request_id,
        )
    return PermanentError(message, code=code, request_id=request_id)


def _add_usage(total: dict | None, usage) -> dict | None:
    if not isinstance(usage, dict):
        return total
    if total is None:
        return usage
    merged = dict(total)
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        merged[key] = (merged.get(key) or 0) + (usage.get(key) or 0)
    return merged


def _parse_result(response: httpx.Response, request_id: str) -> Result:
    """A 200 answer as a Result. An answer that was cut off in transit is worth retrying;
    one that arrived whole but cannot be read (not JSON, no images, image data that is not
    an image) would come back the same, paid for again, so it fails the job at once."""
    body = _json_body(response)
    if body is None:
        if _looks_like_html(response):
            raise PermanentError(
                "The image API answered with an HTML page instead of JSON. "
                f"Check OPENAI_BASE_URL ({settings.OPENAI_BASE_URL}).",
                status=response.status_code,
                request_id=request_id,
            )
        if _cut_off(response.content):
            raise TransientError(
                "The image API's answer was cut off before its end.",
                status=response.status_code,
                request_id=request_id,
            )
        raise _unreadable("it is not valid JSON", request_id)
    items = body.get("data") if isinstance(body, dict) else None
    if isinstance(items, dict):
        items = [items]  # a gateway that sends one image as an object
    if not isinstance(items, list) or not items:
        raise _unreadable("it contained no images", request_id)
    images, revised = [], []
    for item in items:
        images.append(_image_of(item if isinstance(item, dict) else {}, request_id))
        revised.append(item.get("revised_prompt") if isinstance(item, dict) else None)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    svg_usage = body.get("svg_usage") if isinstance(body.get("svg_usage"), dict) else None
    result = Result(
        images=images,
        usage=usage,
        svg_usage=svg_usage,
        request_id=request_id,
        size=_resolved(body.get("size")),
        quality=_resolved(body.get("quality")),
        background=_resolved(body.get("background")),
        output_format=_resolved(body.get("output_format")),
        revised_prompts=revised,
    )
    _resolve_from_images(result)
    return result


def _unreadable(why: str, request_id: str) -> PermanentError:
    return PermanentError(
        f"The image API's answer could not be read: {why}. The call may have been charged; "
        "it was not repeated, since the same answer would come back (and be charged) again.",
        code="unreadable_response",
        request_id=request_id,
    )


def _cut_off(content: bytes) -> bool:
    """Whether a body that is not JSON looks like JSON that stopped early (a connection
    closed mid-answer: it opens like an object or array but never closes) rather than
    something else altogether."""
    text = content.strip()
    return text.startswith((b"{", b"[")) and not text.endswith((b"}", b"]"))


def _image_of(item: dict, request_id: str = "") -> bytes:
    """The image of one answer entry or completed event: `b64_json` (standard or URL-safe
    base64, with or without padding or a data: prefix) or a `url` to download."""
    if item.get("b64_json"):
        data = _b64(item["b64_json"], final=True, request_id=request_id)
    elif item.get("url"):
        data = _download(item["url"])
    else:
        raise _unreadable("an image entry had neither b64_json nor url", request_id)
    return _checked_image(data, request_id)


def _resolved(value) -> str | None:
    """A metadata value the API resolved; `auto` (what some answers echo) says nothing."""
    return value if isinstance(value, str) and value and value != "auto" else None


def _resolve_from_images(result: Result) -> None:
    """Size and background read from the first image itself where the answer left them
    unresolved (a stream echoes the requested `auto`)."""
    if result.size and result.background:
        return
    try:
        with PIL.Image.open(io.BytesIO(result.images[0])) as image:
            result.size = result.size or f"{image.width}x{image.height}"
            if result.background is None and image.format != "SVG":
                result.background = "transparent" if _has_transparency(image) else "opaque"
    except Exception:
        return  # an SVG or another format Pillow cannot open: leave them unknown


def _has_transparency(image: PIL.Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        low = image.getchannel("A").getextrema()[0]
        return isinstance(low, int | float) and low < 255
    return "transparency" in image.info


def _b64(value, *, final: bool = False, request_id: str = "") -> bytes:
    """Base64 text as bytes: the standard alphabet or the URL-safe one, padding optional,
    an optional data: URL prefix. A final image that is not base64 is unreadable (paid,
    not retried); a preview that is not is skipped by the caller."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]
        text = "".join(text.split())
        text += "=" * (-len(text) % 4)
        altchars = b"-_" if ("-" in text or "_" in text) else None
        try:
            return base64.b64decode(text, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            pass
    if final:
        raise _unreadable("its image data is not valid base64", request_id)
    raise TransientError("The image API sent image data that is not valid base64.")


def _checked_image(data: bytes, request_id: str = "") -> bytes:
    """The bytes untouched, once Pillow has confirmed they are a whole image (or they are
    an SVG document, which Pillow does not read)."""
    if _is_svg(data):
        return data
    try:
        with PIL.Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:
        raise _unreadable(
            "the image API returned data that does not decode as an image", request_id
        ) from None
    return data


# --- Downloading `url` answers ---------------------------------------------------------------
# An answer's `url` is chosen by whoever answers (a gateway, or something pretending to be the
# API), so fetching it must not become a way into the studio's own network: only https, or the
# configured API's own origin (the stand-in serves plain http on loopback); never an address
# that is loopback, private, link-local or otherwise not public, checked on the address
# actually connected to, for every redirect hop; and never more than STUDIO_API_MAX_IMAGE_BYTES.

MAX_DOWNLOAD_REDIRECTS = 5


class _AddressRefused(httpcore.ConnectError):
    """The download's host resolves to an address the studio does not fetch from."""


def _api_origin() -> tuple[str, str, int]:
    parts = httpx.URL(settings.OPENAI_BASE_URL)
    return parts.scheme, parts.host.lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _public_only(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicNetworkBackend(httpcore.SyncBackend):
    """Connects only to public addresses, except to the configured API's own host and port.

    The check happens here, on the addresses the connection really uses, so a name that
    resolves differently a second time (DNS rebinding) cannot slip past it."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        _, api_host, api_port = _api_origin()
        if (host.lower(), port) != (api_host, api_port):
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
            addresses = [info[4][0] for info in found]
            if not addresses or not all(_public_only(a) for a in addresses):
                raise _AddressRefused(f"{host} resolves to a non-public address")
            host = addresses[0]
        return super().connect_tcp(host, port, timeout, local_address, socket_options)


class _DownloadTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        # httpx takes no network backend of its own; its connection pool does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            network_backend=_PublicNetworkBackend(),
        )


_downloader: httpx.Client | None = None


def _download_client() -> httpx.Client:
    """Without trust_env: a proxy from the environment would connect on our behalf, past the
    address check."""
    global _downloader
    with _client_lock:
        if _downloader is None:
            _downloader = httpx.Client(
                transport=_DownloadTransport(),
                timeout=httpx.Timeout(
                    connect=settings.STUDIO_API_CONNECT_TIMEOUT,
                    read=settings.STUDIO_API_READ_TIMEOUT,
                    write=60.0,
                    pool=None,
                ),
                follow_redirects=False,
                trust_env=False,
            )
        return _downloader


def _is_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower()


def _download(url: str) -> bytes:
    """The bytes behind an answer's `url`, hop by hop, each hop checked (see above)."""
    limit = settings.STUDIO_API_MAX_IMAGE_BYTES
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise TransientError("The image API linked to an image with an unusable URL.") from None
    for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
        _check_download_url(target)
        try:
            with _download_client().stream("GET", target) as response:
                if response.is_redirect and response.headers.get("location"):
                    target = response.url.join(response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise TransientError(
                        "Could not download the image the API linked to "
                        f"(HTTP {response.status_code})."
                    )
                return _read_capped(response, limit)
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, _AddressRefused):
                raise PermanentError(
                    "The image API linked to an image on a private or local network address; "
                    "the studio does not fetch from there."
                ) from None
            log.warning("Downloading an image the API linked to failed: %s", _describe(exc))
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            raise TransientError(
                f"Could not download the image the API linked to (the connection {kind})."
            ) from None
        except httpx.InvalidURL:
            raise PermanentError("The image API linked to an unusable URL.") from None
    raise PermanentError("The image API's image link redirected too many times.")


def _check_download_url(url: httpx.URL) -> None:
    scheme, host, port = _api_origin()
    same_origin = (
        url.scheme,
        (url.host or "").lower(),
        url.port or _DEFAULT_PORTS.get(url.scheme),
    ) == (
        scheme,
        host,
        port,
    )
    if url.scheme != "https" and not same_origin:
        raise PermanentError(
            "The image API linked to an image over an insecure or unsupported scheme "
            f"({url.scheme or 'none'}:); the studio only downloads https links."
        )


def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, refused as soon as it would pass `limit` bytes (a declared length first)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PermanentError(_too_large(limit))
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise PermanentError(_too_large(limit))
    return bytes(body)


def _too_large(limit: int) -> str:
    return (
        f"The image the API linked to is larger than {limit:,} bytes "
        "(STUDIO_API_MAX_IMAGE_BYTES); it was not downloaded."
    )


def _json_body(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _looks_like_html(response: httpx.Response) -> bool:
    head = response.content[:200].lstrip().lower()
    return "html" in response.headers.get("content-type", "") or head.startswith(
        (b"<!doctype", b"<html")
    )


def error_from_response(response: httpx.Response, *, model: str) -> APIError:
    """Map a non-200 answer to TransientError or PermanentError, keeping the API's own
    message (minus anything that looks like a key) for the person."""
    status = response.status_code
    request_id = _request_id(response)
    body = _json_body(response)
    error = body.get("error", body) if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "")
    api_message = _redact(str(error.get("message") or "")).strip()
    kwargs: _ErrorDetails = {"status": status, "code": code, "request_id": request_id}

    if 300 <= status < 400:
        where = response.headers.get("location", "elsewhere")
        return PermanentError(
            f"The image API redirected the request to {where}. "
            f"Check OPENAI_BASE_URL ({settings.OPENAI_BASE_URL}).",
            **kwargs,
        )
    if not error:
        page = "an HTML page" if _looks_like_html(response) else "a body that is not JSON"
        api_message = f"The image API answered HTTP {status} with {page}."
    if status == 429 and code == "insufficient_quota":
        return PermanentError(
            f"The API account is out of credit (insufficient_quota). {api_message}", **kwargs
        )
    if status in (408, 409, 429) or (status >= 500 and code != "invalid_request"):
        reason = "rate limit reached" if status == 429 else f"HTTP {status}"
        return TransientError(
            f"The image API is busy or failing ({reason}). {api_message}".strip(),
            retry_after=retry_after(response.headers),
            **kwargs,
        )
    if code == "model_not_found" or (status == 404 and "model" in api_message.lower()):
        configured = ", ".join(registry.model_ids())
        return PermanentError(
            f"The API does not serve the model {model!r}: {api_message} "
            f"Configured models: {configured}. Choose another model on the form, or set "
            "STUDIO_DEFAULT_MODEL (and STUDIO_MODELS_FILE for new ids) to change the default.",
            **kwargs,
        )
    if status == 401:
        return PermanentError(
            "The image API rejected the API key (HTTP 401). Check OPENAI_API_KEY "
            "and that OPENAI_BASE_URL belongs to the same provider.",
            **kwargs,
        )
    if code == "moderation_blocked":
        details = error.get("moderation_details") or {}
        categories = ", ".join(details.get("categories") or []) if isinstance(details, dict) else ""
        suffix = f" Categories: {categories}." if categories else ""
        return PermanentError(
            f"The safety system refused this request; rephrase the prompt and try again.{suffix} "
            f"({api_message})",
            **kwargs,
        )
    return PermanentError(
        api_message or f"The image API refused the request (HTTP {status}).", **kwargs
    )


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the API asked us to wait: retry-after-ms, then retry-after as seconds or as
    an HTTP date. None when absent or unusable; capped at MAX_RETRY_AFTER."""
    value: float | None = None
    if headers.get("retry-after-ms"):
        try:
            value = float(headers["retry-after-ms"]) / 1000
        except ValueError:
            value = None
    if value is None and headers.get("retry-after"):
        raw = headers["retry-after"]
        try:
            value = float(raw)
        except ValueError:
            try:
                value = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError):
                value = None
    if value is None or value <= 0:
        return None
    return min(value, MAX_RETRY_AFTER)


_KEY_PATTERN = re.compile(r"\b(sk|pk|sess)-[A-Za-z0-9_\-*]{4,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _redact(text: str, *, limit: int = 2000) -> str:
    """Text that came from the API or anything in front of it (bodies, headers such as
    x-request-id and Location, socket errors), made safe to store, show and log: the key
    (as sent, and URL-encoded) and anything shaped like a key replaced, control characters
    dropped, the length bounded. Every such string passes through here before it is kept."""
    text = str(text or "")
    key = _api_key()
    if key and key != STANDIN_KEY:
        for form in {key, quote(key, safe=""), quote_plus(key)}:
            text = text.replace(form, "[redacted]")
    text = _KEY_PATTERN.sub("[redacted key]", text)
    text = _CONTROL.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _request_id(response: httpx.Response) -> str:
    return _redact(response.headers.get("x-request-id", ""), limit=200)


def _describe(exc: Exception) -> str:
    return _redact(str(exc) or type(exc).__name__)


def _timeout_text() -> str:
    return f"{settings.STUDIO_API_READ_TIMEOUT:g} seconds"
