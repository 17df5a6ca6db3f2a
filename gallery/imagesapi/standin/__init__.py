"""A stand-in for OpenAI's Images API: a real HTTP server for tests and the offline default.

It speaks the real protocol so that protocol bugs in the client show up: the same routes,
Bearer auth, JSON and multipart bodies, validation errors in OpenAI's envelope, base64 images of
the requested size, format and background (signed with C2PA like OpenAI's), `usage`, rate-limit
headers and server-sent events. The images are placeholders that show the prompt.

In-process (tests)::

    server = StandinServer("127.0.0.1", 0, latency=0.0, faults=["429"], fault_rate=0.2).start()
    server.url          # "http://127.0.0.1:PORT/v1"
    server.configure(latency=2)   # same settings as POST /_standin/config
    server.requests()   # the request log
    server.stop()

Constructor: StandinServer(host="127.0.0.1", port=0, *, latency=0.0, jitter=0.0, faults=(),
fault_rate=0.0, retired_models=(), slow_seconds=5.0, hang_seconds=3600.0, retry_after=1.5,
key=None, sign=True, seed=None). `key` None accepts any non-empty Bearer token; `sign` False
skips C2PA signing (about 75 ms an image); `seed` makes random fault picks repeatable.

From the shell: ``python manage.py standin_api --port 8001 --latency 2`` (see --help).

Routes
    POST /v1/images/generations   JSON
    POST /v1/images/edits         multipart (`image`, repeated `image`, or `image[]`; `mask`;
                                  `markup`), or the JSON variant with base64 `data:` URLs.
                                  File parts declared application/octet-stream (or any type
                                  but image/png, image/jpeg, image/webp) are refused: 400
                                  unsupported_file_mimetype, param `image` (or `mask`/`markup`)
    GET  /v1/models               the models the key can use, with `shutdown_date`
                                  (`listed_models`; `list_models` false answers 404 like a
                                  gateway that lists none)
    Models: gpt-image-2, gpt-image-2.5-flare/-sunburst, gpt-image-2.6-flare/-sunburst and their
    dated snapshots, with the SDK's rules (free WxH sizes; xhigh and max on 2.5/2.6;
    complexity, gif with frame_count 2-16 and frame_duration_ms, svg for one generated image
    on 2.6; markup on 2.5/2.6, never with a mask; no input_fidelity from gpt-image-2 on). The
    shut-down gpt-image-1, gpt-image-1-mini, gpt-image-1.5 and chatgpt-image-latest are still
    served, as a gateway may (retire them with `retired_models`). Anything else, or a model in
    `retired_models`, is 404 model_not_found. Without `model`, generations default to
    dall-e-2 (retired) as the spec says, so forgetting `model` fails the way it would
    upstream; edits default to gpt-image-1.5. `safety_identifier` is accepted and echoed. A
    missing key is 401 with `code: null`, a wrong one `invalid_api_key`.

Control API (no auth; the server listens on loopback unless told otherwise)
    GET  /_standin/health        {"status": "ok"}
    GET  /_standin/config        the current settings
    POST /_standin/config        JSON with any of: latency, jitter, faults, fault_rate,
                                 retired_models, listed_models, list_models, slow_seconds,
                                 hang_seconds, retry_after
    GET  /_standin/requests      the last 200 API requests: method, path, content type,
                                 fields (long strings cut), files (name, filename, type, size),
                                 fault, model, status sent, duration; never image bytes or the
                                 Authorization header
    DELETE /_standin/requests    clears that log

Faults
    Per request, put ``[fault:NAME]`` in the prompt (e.g. "an otter [fault:429]"). Per run,
    `faults` + `fault_rate` make that share of valid requests fail with a fault picked at random.
    Faults apply after validation, so an invalid request is always a 400. NAME is one of:

    429               rate_limit_exceeded, retry-after / retry-after-ms / x-ratelimit-* headers
    429_quota         insufficient_quota, no retry-after
    500, 503          server_error in OpenAI's envelope (after the latency)
    502, 524          Cloudflare HTML pages with that status
    html              200 with an HTML page
    truncated         200 JSON cut in half (streaming: the completed event's data cut in half)
    bad_image         200 JSON whose b64_json is not an image
    slow              the normal reply, slow_seconds (default 5) later
    hang              no reply for hang_seconds (default 3600) or until the server stops
    reset             headers and half the body, then a TCP reset
    moderation        400 moderation_blocked with moderation_details (stage input)
    moderation_plain  400 moderation_blocked without moderation_details
    org_verification  403 "Your organization must be verified..."
    401               401 invalid_api_key
    model_not_found   404 model_not_found for the requested model
    comet             CometAPI 500 comet_api_error, code invalid_request, id in the message
    comet_400         CometAPI 400 comet_api_error, empty code
    stream_cut        streaming ends after the first partial, without a completed event
                      (non-streaming requests get `reset`)
    stream_error      streaming: after the first event, an error event whose type ends in
                      server_error (non-streaming requests get `500`)

Usage
    Output tokens follow OpenAI's table (quality auto counted as medium; other sizes scale the
    1024x1024 figure by pixel count; xhigh and max bill twice and four times high) times n,
    times the frames of a GIF, plus 100 per streamed partial. Text tokens are
    round(words x 1.3). Each input image of an edit (and a markup layer) costs 85 + 65 per
    512 px tile after scaling its short side to 512 px (1024 px with input_fidelity high, and
    always from gpt-image-2 on). SVG output adds `svg_usage` for its authoring. Streamed
    completed events carry the resolved size, quality and background.
"""

from .server import Config, StandinServer

__all__ = ["Config", "StandinServer"]
