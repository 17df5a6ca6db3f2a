"""The stand-in's HTTP server: routes, auth, latency, faults, streaming, and the control API.

One thread per connection (ThreadingHTTPServer) keeps a slow request from holding up the rest,
which is what the job-engine benchmarks need: hundreds of calls waiting at once. HTTP/1.1 with
keep-alive, as the real API speaks it, so client connection pools behave as they would live.
"""

import base64
import hmac
import json
import logging
import random
import secrets
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import faults, images, multipart, validation
from .validation import ApiError, ImageRequest, InputFile

logger = logging.getLogger("gallery.standin")

ROUTES = {
    ("POST", "/v1/images/generations"): "generation",
    ("POST", "/v1/images/edits"): "edit",
    ("GET", "/v1/models"): "models",
}
# 16 images and a mask, each just under 50 MB, plus the form around them.
MAX_BODY = 17 * validation.MAX_FILE_BYTES + 1024 * 1024
REQUEST_LOG_SIZE = 200
LOGGED_STRING = 200  # longer strings in the request log are cut to this many characters
# Rate-limit headers describe a generous tier; they inform, only the 429 fault enforces.
RATE_LIMIT_REQUESTS = 5000
RATE_LIMIT_TOKENS = 8_000_000
NOT_AN_IMAGE = base64.b64encode(b"STAND-IN bad_image fault: these bytes are not an image").decode()
JSON_PARSE_ERROR = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)
NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key "
    "from https://platform.openai.com/account/api-keys."
)


@dataclass(frozen=True)
class Config:
    """What can change while the server runs (POST /_standin/config)."""

    latency: float = 0.0  # seconds per request
    jitter: float = 0.0  # +/- seconds added at random to the latency
    faults: tuple[str, ...] = ()  # picked from at random for `fault_rate` of the requests
    fault_rate: float = 0.0  # 0..1
    retired_models: tuple[str, ...] = ()  # answered with model_not_found
    # What GET /v1/models lists: empty means every model it serves (like a gateway that still
    # routes the models OpenAI shut down, each with its shutdown date); a key that can use
    # fewer lists fewer. Retire a model (retired_models) to have it neither served nor listed.
    listed_models: tuple[str, ...] = ()
    list_models: bool = True  # False: GET /v1/models is 404, like a gateway that lists none
    slow_seconds: float = 5.0  # extra delay of the `slow` fault
    hang_seconds: float = 3600.0  # how long `hang` keeps a request waiting
    retry_after: float = 1.5  # seconds the `429` fault asks the client to wait

    def updated(self, changes: dict) -> "Config":
        """A copy with `changes` applied; ValueError names the first bad value."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        values: dict = {}
        for name, value in changes.items():
            if name == "list_models":
                if not isinstance(value, bool):
                    raise ValueError("list_models must be true or false.")
                values[name] = value
                continue
            if name in ("faults", "retired_models", "listed_models"):
                if isinstance(value, str):
                    value = [item.strip() for item in value.split(",") if item.strip()]
                if not isinstance(value, list | tuple) or not all(
                    isinstance(item, str) for item in value
                ):
                    raise ValueError(f"{name} must be a list of strings.")
                value = tuple(value)
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0.")
            values[name] = value
        config = replace(self, **values)
        unknown_faults = set(config.faults) - set(faults.FAULTS)
        if unknown_faults:
            raise ValueError(
                f"Unknown fault(s): {', '.join(sorted(unknown_faults))}. "
                f"Known: {', '.join(faults.FAULTS)}."
            )
        if config.fault_rate > 1:
            raise ValueError("fault_rate must be between 0 and 1.")
        return config


class StandinServer:
    """A running stand-in image API.

        server = StandinServer(port=0, latency=0.5).start()
        httpx.post(f"{server.url}/images/generations", ...)
        server.stop()

    `key` None accepts any non-empty bearer token. `sign` False skips C2PA signing (which needs
    Django settings and the signing credential). `seed` makes the random faults repeatable.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        faults: list[str] | tuple[str, ...] | str = (),
        fault_rate: float = 0.0,
        retired_models: list[str] | tuple[str, ...] | str = (),
        listed_models: list[str] | tuple[str, ...] | str = (),
        list_models: bool = True,
        slow_seconds: float = 5.0,
        hang_seconds: float = 3600.0,
        retry_after: float = 1.5,
        key: str | None = None,
        sign: bool = True,
        seed: int | None = None,
    ):
        self.config = Config().updated(
            {
                "latency": latency,
                "jitter": jitter,
                "faults": faults,
                "fault_rate": fault_rate,
                "retired_models": retired_models,
                "listed_models": listed_models,
                "list_models": list_models,
                "slow_seconds": slow_seconds,
                "hang_seconds": hang_seconds,
                "retry_after": retry_after,
            }
        )
        self.key = key
        self.sign = sign
        self.random = random.Random(seed)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: deque[dict] = deque(maxlen=REQUEST_LOG_SIZE)
        self._rate_window = (0.0, 0, 0)  # window start, requests, tokens
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.standin = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        host = self._httpd.server_address[0]
        assert isinstance(host, str)  # an AF_INET(6) server: only AF_UNIX has bytes
        return host

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL a client is configured with (like https://api.openai.com/v1)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "StandinServer":
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests; requests that are waiting (latency, hang) end at once."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join()

    def __enter__(self) -> "StandinServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def configure(self, **changes) -> Config:
        with self._lock:
            self.config = self.config.updated(changes)
            return self.config

    def requests(self) -> list[dict]:
        """The last requests (oldest first), as the request log shows them."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, entry: dict) -> None:
        with self._lock:
            self._requests.append(entry)

    def _rate_limit_headers(self, tokens: int) -> dict[str, str]:
        with self._lock:
            now = time.time()
            start, used_requests, used_tokens = self._rate_window
            if now - start >= 60:
                start, used_requests, used_tokens = now, 0, 0
            self._rate_window = (start, used_requests + 1, used_tokens + tokens)
        reset = faults.go_duration(max(0.0, start + 60 - now))
        return {
            "x-ratelimit-limit-requests": str(RATE_LIMIT_REQUESTS),
            "x-ratelimit-limit-tokens": str(RATE_LIMIT_TOKENS),
            "x-ratelimit-remaining-requests": str(max(0, RATE_LIMIT_REQUESTS - used_requests - 1)),
            "x-ratelimit-remaining-tokens": str(max(0, RATE_LIMIT_TOKENS - used_tokens - tokens)),
            "x-ratelimit-reset-requests": reset,
            "x-ratelimit-reset-tokens": reset,
        }


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for hung requests
    request_queue_size = 1024  # the listen backlog, for bursts of hundreds of connections
    allow_reuse_address = True
    standin: StandinServer


class _Stopped(Exception):
    """The server is stopping: drop the request without a reply."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin"
    sys_version = ""
    timeout = 120  # seconds an idle keep-alive connection (or a stalled upload) may last
    server: _HTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args) -> None:
        # Requests are logged once, with their outcome, by _dispatch.
        logger.debug("%s " + format, self.client_address[0], *args)

    # --- Dispatch ---------------------------------------------------------------------

    def _dispatch(self) -> None:
        app = self.server.standin
        self.started = time.monotonic()
        self.request_id = "req_" + secrets.token_hex(16)
        self.status_sent: int | None = None
        self.tokens = 0
        path = urlsplit(self.path).path
        # Every key exists from the start: requests() copies entries while handlers fill them
        # in, which is safe for changing values but not for a dict that grows.
        entry = {
            "id": self.request_id,
            "time": time.time(),
            "method": self.command,
            "path": path,
            "content_type": self.headers.get("Content-Type"),
            "retry_count": self.headers.get("x-stainless-retry-count"),
            "fields": None,
            "files": [],
            "model": None,
            "fault": None,
            "status": None,
            "duration_ms": None,
        }
        if app.stopping.is_set():
            # A kept-alive connection outlives stop(); it must not be served after it.
            self.close_connection = True
            return
        control = path.startswith("/_standin/")
        if not control:
            app._record(entry)
        try:
            body = self._read_body()
            if control:
                self._control(path, body)
            else:
                self._handle_api(path, body, entry)
        except ApiError as error:
            self._send_json(error.status, error.body(), error.headers)
        except _Stopped:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception:
            logger.exception("Stand-in failed on %s %s", self.command, path)
            self.close_connection = True
            if self.status_sent is None:
                failure = ApiError(500, "The stand-in failed; see its log.", type="server_error")
                self._send_json(500, failure.body())
        finally:
            entry["status"] = self.status_sent
            entry["duration_ms"] = round((time.monotonic() - self.started) * 1000)
            if not control:
                logger.info(
                    "%s %s %s model=%s fault=%s %dms %s",
                    self.command,
                    path,
                    self.status_sent or "-",
                    entry["model"] or "-",
                    entry["fault"] or "-",
                    entry["duration_ms"],
                    self.request_id,
                )

    def _handle_api(self, path: str, body: bytes, entry: dict) -> None:
        app = self.server.standin
        kind = ROUTES.get((self.command, path))
        if kind is None:
            raise ApiError(404, f"Invalid URL ({self.command} {path})")
        self._authorise(app.key)
        if kind == "models":
            self._list_models(app.config)
            return
        fields, files, from_form = self._parse(kind, body)
        entry.update(_summary(fields, files))
        config = app.config
        fault = self._choose_fault(fields.get("prompt"), config)
        entry["fault"] = fault
        request = validation.validate(
            kind, fields, files, from_form=from_form, retired=set(config.retired_models)
        )
        entry["model"] = request.model
        self._serve(request, fault, config)

    def _list_models(self, config: Config) -> None:
        """GET /v1/models as OpenAI answers it: the models the key can use, each with its
        shutdown date (null when none is announced)."""
        if not config.list_models:
            raise ApiError(404, f"Invalid URL ({self.command} /v1/models)")
        retired = set(config.retired_models)
        if config.listed_models:
            ids = [m for m in config.listed_models if m not in retired]
        else:
            ids = sorted(validation.MODELS - retired)
        data = [
            {
                "id": model_id,
                "object": "model",
                "created": validation.CREATED.get(model_id, 1776729600),
                "owned_by": "system",
                "shutdown_date": validation.SHUTDOWN_DATES.get(model_id),
            }
            for model_id in ids
        ]
        self._send_json(200, {"object": "list", "data": data})

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body makes the connection unusable
            raise ApiError(413, f"Request body too large: {length} bytes.")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise ApiError(413, "Request body too large.")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _authorise(self, key: str | None) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, NO_KEY)  # OpenAI sends code null for a missing key
        if key is not None and not hmac.compare_digest(token.encode(), key.encode()):
            raise ApiError(
                401,
                f"Incorrect API key provided: {_redacted(token)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def _parse(self, kind: str, body: bytes) -> tuple[dict, list[InputFile], bool]:
        """The request's fields and files, and whether they came from a form."""
        if self.headers.get_content_type() == "multipart/form-data" and kind == "edit":
            try:
                parts = multipart.parse(body, self.headers["Content-Type"])
            except multipart.MultipartError as exc:
                raise ApiError(400, f"Could not parse the multipart form: {exc}.") from exc
            fields, files = {}, []
            for part in parts:
                if part.filename is None:
                    fields[part.name] = part.data.decode("utf-8", errors="replace")
                else:
                    files.append(InputFile(part.name, part.filename, part.content_type, part.data))
            return fields, files, True
        if (
            self.headers.get_content_type() == "application/x-www-form-urlencoded"
            and kind == "edit"
        ):
            # A form without files: it fails validation for want of `image`, as upstream.
            return dict(parse_qsl(body.decode("utf-8", errors="replace"))), [], True
        try:
            fields = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, JSON_PARSE_ERROR) from exc
        if not isinstance(fields, dict):
            raise ApiError(400, JSON_PARSE_ERROR)
        return fields, [], False

    def _choose_fault(self, prompt, config: Config) -> str | None:
        """A `[fault:NAME]` token in the prompt wins; otherwise a random pick at fault_rate."""
        named = faults.from_prompt(prompt) if isinstance(prompt, str) else None
        if named:
            return named
        random_source = self.server.standin.random
        if config.faults and random_source.random() < config.fault_rate:
            return random_source.choice(config.faults)
        return None

    # --- Serving ----------------------------------------------------------------------

    def _serve(self, request: ImageRequest, fault: str | None, config: Config) -> None:
        if fault in faults.ECHO_KEY:
            raise faults.echo_key(fault, self.headers.get("Authorization", ""))
        if fault in faults.IMMEDIATE:
            raise self._fault_error(fault, request, config)
        if fault == "hang":
            self._wait(config.hang_seconds)
            raise _Stopped  # a hung upstream never answers; the socket just closes
        delay = max(0.0, config.latency + self.server.standin.random.uniform(-1, 1) * config.jitter)
        if fault == "slow":
            delay += config.slow_seconds
        deadline = self.started + delay

        if fault in faults.ERRORS_AFTER_WORK or (fault == "stream_error" and not request.stream):
            self._wait_until(deadline)
            raise self._fault_error("500" if fault == "stream_error" else fault, request, config)
        if fault in faults.HTML_ERRORS or fault == "html":
            self._wait_until(deadline)
            status = faults.HTML_ERRORS.get(fault, 200)
            self._send(status, "text/html; charset=UTF-8", faults.html_page(fault))
            return
        if request.stream:
            self._stream(request, fault, deadline)
            return

        if fault == "bad_image":
            outputs = [NOT_AN_IMAGE] * request.n
        else:
            outputs = [self._output(request, index) for index in range(request.n)]
        usage = validation.usage(request, images=request.n, partials=0)
        reply = {
            "created": int(time.time()),
            "data": [{"b64_json": b64} for b64 in outputs],
            "background": request.resolved_background,
            "output_format": request.output_format,
            "quality": request.resolved_quality,
            "size": request.resolved_size,
            "usage": usage,
        }
        if request.output_format == "svg" and fault != "bad_image":
            reply["svg_usage"] = validation.svg_usage(request, base64.b64decode(outputs[0]))
        if request.safety_identifier:
            reply["safety_identifier"] = request.safety_identifier
        body = json.dumps(reply).encode()
        self.tokens = usage["total_tokens"]
        self._wait_until(deadline)
        if fault == "truncated":
            self._send(200, "application/json", body[: len(body) // 2])
        elif fault in ("reset", "stream_cut"):
            self._send_reset(200, "application/json", body)
        else:
            self._send(200, "application/json", body)

    def _stream(self, request: ImageRequest, fault: str | None, deadline: float) -> None:
        """Server-sent events: per image, `partial_images` previews then a completed event,
        spread evenly over the request's latency. Each completed event carries the usage of
        its own image (input tokens on the first), so the events add up to the request."""
        prefix = "image_generation" if request.kind == "generation" else "image_edit"
        echoed = {
            "size": request.size,
            "quality": request.quality,
            "background": request.background,
            "output_format": request.output_format,
        }
        events: list[dict[str, Any]] = []
        for index in range(request.n):
            picture = self._picture(request, index)
            for stage in range(request.partial_images):
                preview = images.partial(picture, stage, request.partial_images)
                data = images.encode(preview, request.output_format, request.output_compression)
                partial = {
                    "type": f"{prefix}.partial_image",
                    "b64_json": self._signed(request, data),
                }
                events.append(partial | echoed | {"partial_image_index": stage})
            usage = validation.usage(
                request, images=1, partials=request.partial_images, with_input=index == 0
            )
            del usage["output_tokens_details"]  # ImagesUsage in the stream schema has none
            self.tokens += usage["total_tokens"]
            final = NOT_AN_IMAGE if fault == "bad_image" else self._output(request, index, picture)
            # The final event says what was made: the size, quality and background resolved.
            resolved = {
                "size": request.resolved_size,
                "quality": request.resolved_quality,
                "background": request.resolved_background,
                "output_format": request.output_format,
            }
            completed = {"type": f"{prefix}.completed", "b64_json": final} | resolved
            if request.safety_identifier:
                completed["safety_identifier"] = request.safety_identifier
            events.append(completed | {"usage": usage})
        if fault == "stream_cut":
            events = events[:1] if events[0]["type"].endswith("partial_image") else []
        if fault == "stream_error":
            events = [*events[:1], faults.stream_error_event(prefix, self.request_id)]

        start = time.monotonic()
        # Rendering the images may have used up much of the latency: the events still take
        # at least half of it, so previews always come well before the final image.
        end = max(deadline, start + (deadline - self.started) / 2)
        self._send_head(200, "text/event-stream; charset=utf-8", chunked=True)
        for number, event in enumerate(events, start=1):
            self._wait_until(start + (end - start) * number / len(events))
            if "error" not in event:
                event = {"type": event["type"], "created_at": int(time.time())} | event
            raw = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
            if fault == "reset":
                self._reset_connection(_chunk(raw)[: len(raw) // 2])
                return
            if fault == "truncated" and event["type"].endswith("completed"):
                raw = raw[: len(raw) // 2] + b"\n\n"
            self.wfile.write(_chunk(raw))
            if event["type"].endswith("partial_image"):
                # The wall-clock time lets a benchmark line this up with a browser's clock.
                logger.info(
                    "%s sent partial image %s at %.3f",
                    self.request_id,
                    event["partial_image_index"],
                    time.time(),
                )
        self.wfile.write(b"0\r\n\r\n")

    def _picture(self, request: ImageRequest, index: int):
        label = f"{request.model} · {request.resolved_quality}"
        transparent = request.background == "transparent"
        if request.kind == "generation":
            return images.generation(
                request.prompt, index, request.width, request.height, transparent, label
            )
        return images.edit(
            request.images[0],
            request.images[1:],
            request.mask,
            request.prompt,
            index,
            request.width,
            request.height,
            transparent,
            label,
        )

    def _output(self, request: ImageRequest, index: int, picture=None) -> str:
        """One finished image, signed, as base64; `picture` saves rendering an edit twice."""
        label = f"{request.model} · {request.resolved_quality}"
        if request.output_format == "svg":
            document = images.svg(request.prompt, index, request.width, request.height, label)
            return base64.b64encode(document).decode()
        if request.output_format == "gif":
            frames = [
                images.generation(
                    request.prompt,
                    index * 100 + frame,
                    request.width,
                    request.height,
                    request.background == "transparent",
                    f"{label} · frame {frame + 1}",
                )
                if request.kind == "generation"
                else self._picture(request, index * 100 + frame)
                for frame in range(request.frame_count)
            ]
            data = images.gif(frames, request.frame_duration_ms)
            return base64.b64encode(data).decode()
        if request.kind == "generation":
            data = images.generation_bytes(
                request.prompt,
                index,
                request.width,
                request.height,
                request.background == "transparent",
                f"{request.model} · {request.resolved_quality}",
                request.output_format,
                request.output_compression,
            )
        else:
            if picture is None:
                picture = self._picture(request, index)
            data = images.encode(picture, request.output_format, request.output_compression)
        return self._signed(request, data)

    def _signed(self, request: ImageRequest, data: bytes) -> str:
        if self.server.standin.sign:
            # Imported here: signing needs Django settings, which sign=False users may lack.
            from gallery import provenance

            data = provenance.sign_generated(
                data, output_format=request.output_format, model=request.model
            )
        return base64.b64encode(data).decode()

    def _fault_error(self, fault: str, request: ImageRequest, config: Config) -> ApiError:
        return faults.error(
            fault, model=request.model, request_id=self.request_id, retry_after=config.retry_after
        )

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.standin.stopping.wait(seconds):
            raise _Stopped

    def _wait_until(self, deadline: float) -> None:
        self._wait(deadline - time.monotonic())

    # --- Writing ----------------------------------------------------------------------

    def _send_head(
        self, status: int, content_type: str, *, length: int = 0, chunked: bool = False, extra=None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")  # so the client does not reuse it
        self.send_header("openai-version", "2020-10-01")
        self.send_header("openai-organization", "org-standin")
        elapsed = round((time.monotonic() - self.started) * 1000)
        self.send_header("openai-processing-ms", str(elapsed))
        headers = {"x-request-id": self.request_id}
        headers.update(self.server.standin._rate_limit_headers(self.tokens))
        headers.update(extra or {})
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.status_sent = status

    def _send(self, status: int, content_type: str, body: bytes, extra=None) -> None:
        self._send_head(status, content_type, length=len(body), extra=extra)
        self.wfile.write(body)

    def _send_json(self, status: int, value, extra=None) -> None:
        self._send(status, "application/json", json.dumps(value).encode(), extra)

    def _send_reset(self, status: int, content_type: str, body: bytes) -> None:
        """Promise the whole body, send half, then reset the connection."""
        self._send_head(status, content_type, length=len(body))
        self._reset_connection(body[: len(body) // 2])

    def _reset_connection(self, last_bytes: bytes) -> None:
        self.wfile.write(last_bytes)
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN. The socket's
        # file descriptor closes only once the buffered reader on it is closed too.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.connection.close()

    # --- Control API ------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        """Local test controls. No auth: the stand-in listens on loopback by default."""
        app = self.server.standin
        route = (self.command, path)
        if route == ("GET", "/_standin/health"):
            self._send_json(200, {"status": "ok"})
        elif route == ("GET", "/_standin/config"):
            self._send_json(200, _config_json(app.config))
        elif route == ("POST", "/_standin/config"):
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("The body must be a JSON object.")
                config = app.configure(**changes)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from exc
            logger.info("Configuration changed: %s", _config_json(config))
            self._send_json(200, _config_json(config))
        elif route == ("GET", "/_standin/requests"):
            self._send_json(200, {"requests": app.requests()})
        elif route == ("DELETE", "/_standin/requests"):
            app.clear_requests()
            self._send_json(200, {"requests": []})
        else:
            raise ApiError(404, f"Invalid URL ({self.command} {path})")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _redacted(token: str) -> str:
    """As OpenAI shows a wrong key: stars and, for keys long enough, the last four characters."""
    if len(token) < 12:
        return "*" * len(token)
    return "*" * min(20, len(token) - 4) + token[-4:]


def _config_json(config: Config) -> dict:
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in asdict(config).items()
    }


def _summary(fields: dict, files: list[InputFile]) -> dict:
    """What the request log keeps of a body: the fields (long strings and data URLs cut
    short), and of each file its field name, filename, type and size; never image bytes."""

    def short(value):
        if isinstance(value, str):
            if value.startswith("data:"):
                return f"<data URL, {len(value)} characters>"
            return value if len(value) <= LOGGED_STRING else value[:LOGGED_STRING] + "…"
        if isinstance(value, list):
            return [short(item) for item in value]
        if isinstance(value, dict):
            return {key: short(item) for key, item in value.items()}
        return value

    return {
        "fields": short(fields),
        "files": [
            {
                "field": f.field,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": len(f.data),
            }
            for f in files
        ],
    }
